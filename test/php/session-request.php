<?php
// One PHP "request" against a session, as a web request would make it; driven by the
// php-sessions e2e tests. The handler and its settings come from `php -d ...`.
//
//   php -d session.save_handler=... -d session.save_path=... session-request.php '<json>'
//
// <json> is {"action": ..., "sid": ..., ...}. Prints "STARTING" before session_start(), for
// "hold" also "LOCKED" once the session is open, and at the end one line
// "RESULT <json>" with what happened, including every warning PHP raised (collected
// here, because session_write_close() returns true in PHP 8.2 even when the write failed).
//
// Actions:
//   incr     {sid, marker}     n += 1 and marker appended to "markers"
//   put      {sid, data}       the session becomes `data` (an object)
//   get      {sid}             reads the session, changes nothing
//   hold     {sid, marker}     like incr, but waits for a line on stdin between start and write
//   regenerate {sid}           session_regenerate_id(true), then n = 1 in the new session
//   destroy  {sid}             session_destroy()
//   strict   {sid}             session_start() on a client-supplied id (for use_strict_mode)

$warnings = [];
set_error_handler(function (int $no, string $message) use (&$warnings): bool {
    $warnings[] = $message;
    return true;
});

$request = json_decode($argv[1] ?? '', true);
if (!is_array($request) || !isset($request['action'])) {
    fwrite(STDERR, "usage: session-request.php '{\"action\":...,\"sid\":...}'\n");
    exit(2);
}
$action = $request['action'];
$result = ['action' => $action, 'pid' => getmypid()];

if (isset($request['sid'])) session_id($request['sid']);
// (Not before session_regenerate_id(), which refuses once output was sent.)
if ($action !== 'regenerate') {
    echo "STARTING\n";
    flush();
}
$started = session_start();
$result['started'] = $started;
$result['id'] = session_id();

if ($started) {
    $result['before'] = $_SESSION;
    switch ($action) {
        case 'hold':
            echo "LOCKED\n";
            flush();
            fgets(STDIN);
            // fall through: then the same as incr
        case 'incr':
            $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
            $_SESSION['markers'] = ($_SESSION['markers'] ?? '') . $request['marker'] . ',';
            break;
        case 'put':
            $_SESSION = $request['data'];
            break;
        case 'get':
        case 'strict':
            break;
        case 'regenerate':
            $result['old_id'] = session_id();
            $result['regenerated'] = session_regenerate_id(true);
            $result['id'] = session_id();
            $_SESSION['n'] = 1;
            break;
        case 'destroy':
            $result['destroyed'] = session_destroy();
            break;
        default:
            fwrite(STDERR, "unknown action $action\n");
            exit(2);
    }
    if (session_status() === PHP_SESSION_ACTIVE) $result['closed'] = session_write_close();
}
$result['warnings'] = $warnings;
echo 'RESULT ', json_encode($result, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
