<?php
// One PHP process of `npm run bench:sessions`: page views against one session store, each
// `session_id(); session_start(); n++; blob = 1 KB; session_write_close();`, as a web request
// would make them but in a loop. The store comes from `php -d session.*` settings, or, for
// {"handler":"pdo"}, from Symfony's PdoSessionHandler registered here.
//
//   php -d ... worker.php '<json>'        (PDO password in the environment: BENCH_PDO_PASSWORD)
//
// <json>: {"mode": "views"|"read"|"setup", "handler": "native"|"pdo", "pdo": {dsn, user, table},
//          "ids": [...], "startAtMs": unix ms, "endAtMs": unix ms}
//   views  loops page views over `ids` in turn until endAtMs; views that start before startAtMs
//          are the warm-up: done, counted in allViews, not timed.
//   read   reads ids[0] once (read_and_close) and reports its n.
//   setup  PdoSessionHandler::createTable().
// Prints nothing until the end, then one JSON line. A view fails when session_start() returns
// false or PHP raises any warning during it; failures count the timed views only (session_write_close() returns true in PHP 8.2 even
// when the write failed, so the warnings are the only trace); an increment counts only for a
// view that did not fail.

$warnings = [];
set_error_handler(function (int $no, string $message) use (&$warnings): bool {
    $warnings[] = $message;
    return true;
});

$config = json_decode($argv[1] ?? '', true);
if (!is_array($config) || !isset($config['mode'])) {
    fwrite(STDERR, "usage: worker.php '{\"mode\":...}'\n");
    exit(2);
}

if (($config['handler'] ?? 'native') === 'pdo') {
    $autoload = '/usr/share/php/Symfony/Component/HttpFoundation/autoload.php';
    if (is_file($autoload)) {
        require_once $autoload;
    } else {
        require_once '/usr/share/php/Symfony/Component/HttpFoundation/Session/Storage/Handler/AbstractSessionHandler.php';
        require_once '/usr/share/php/Symfony/Component/HttpFoundation/Session/Storage/Handler/PdoSessionHandler.php';
    }
    // A DSN, not a PDO: the handler connects in open() and disconnects in close(), once per
    // page view, as a web request does.
    $handler = new Symfony\Component\HttpFoundation\Session\Storage\Handler\PdoSessionHandler($config['pdo']['dsn'], [
        'db_table' => $config['pdo']['table'],
        'db_username' => $config['pdo']['user'],
        'db_password' => getenv('BENCH_PDO_PASSWORD') ?: '',
    ]);
    if ($config['mode'] === 'setup') {
        $handler->createTable();
        echo json_encode(['created' => true, 'warnings' => $warnings]), "\n";
        exit(0);
    }
    session_set_save_handler($handler, true);
}

$ids = $config['ids'];

if ($config['mode'] === 'read') {
    session_id($ids[0]);
    $ok = session_start(['read_and_close' => true]);
    echo json_encode(['started' => $ok, 'n' => $ok ? ($_SESSION['n'] ?? 0) : null, 'warnings' => $warnings]), "\n";
    exit(0);
}

$blob = bin2hex(random_bytes(512));
$startAt = $config['startAtMs'] / 1000;
$endAt = $config['endAtMs'] / 1000;
$idCount = count($ids);
$latenciesUs = [];
$views = 0;
$allViews = 0;
$failures = 0;
$increments = 0;
$failureMessages = [];
for ($i = 0; ; $i++) {
    $now = microtime(true);
    if ($now >= $endAt) break;
    $measured = $now >= $startAt;
    $warningsBefore = count($warnings);
    $t0 = hrtime(true);
    session_id($ids[$i % $idCount]);
    $started = session_start();
    if ($started) {
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        $_SESSION['blob'] = $blob;
        session_write_close();
    }
    $t1 = hrtime(true);
    $allViews++;
    $failed = !$started || count($warnings) > $warningsBefore;
    if ($failed) {
        if ($measured) $failures++;
        $message = $started ? '' : 'session_start() returned false';
        for ($w = $warningsBefore; $w < count($warnings); $w++) $message .= ($message === '' ? '' : ' | ') . $warnings[$w];
        if ($measured) $failureMessages[$message] = ($failureMessages[$message] ?? 0) + 1;
        $warnings = [];
    } else {
        $increments++;
    }
    if ($measured) {
        $views++;
        $latenciesUs[] = intdiv($t1 - $t0, 1000);
    }
}

$usage = getrusage();
echo json_encode([
    'views' => $views,
    'allViews' => $allViews,
    'failures' => $failures,
    'increments' => $increments,
    'failureMessages' => $failureMessages,
    'cpuSeconds' => $usage['ru_utime.tv_sec'] + $usage['ru_utime.tv_usec'] / 1e6 + $usage['ru_stime.tv_sec'] + $usage['ru_stime.tv_usec'] / 1e6,
    'latenciesUs' => $latenciesUs,
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
