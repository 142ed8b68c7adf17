"""pymemcache's and pylibmc's stats calls against one server (argv[1] = host, argv[2] = port),
as JSON on stdout: for each client and group, every name with the type the client gave its
value; and what pymemcache's cache_memlimit returned."""
import json
import sys

import pylibmc
from pymemcache.client.base import Client

host, port = sys.argv[1], int(sys.argv[2])


def shape(stats):
    return {(k.decode() if isinstance(k, bytes) else k): type(v).__name__ for k, v in stats.items()}


pym = Client((host, port), timeout=5)
pym.set('clients-stats-b', b'x' * 300)
pym.get('clients-stats-b')
result = {
    'pymemcache': {group or 'general': shape(pym.stats(*([group] if group else []))) for group in ['', 'items', 'slabs']},
    'pymemcache_cache_memlimit': pym.cache_memlimit(100),
}
lib = pylibmc.Client([f'{host}:{port}'])
result['pylibmc'] = {
    group or 'general': shape(lib.get_stats(group)[0][1] if group else lib.get_stats()[0][1]) for group in ['', 'items', 'slabs']
}
json.dump(result, sys.stdout)
