# dalli's stats calls against one server (argv[0] = host:port), as JSON on stdout: the names
# and value kinds of each group, and the outcome of dalli 3.0.6's own "support stats" checks.
require 'dalli'
require 'json'

server = ARGV.fetch(0)
dc = Dalli::Client.new(server, socket_timeout: 5)
# as dalli's test does, so that get_hits is not 0
dc.set('clients-stats-a', '1234567890' * 100)
dc.get('clients-stats-a')

shape = ->(stats) { stats.fetch(server).transform_values { |v| v =~ /\A-?\d+\z/ ? 'int' : v =~ /\A-?\d+\.\d+\z/ ? 'float' : 'text' } }
general = dc.stats
items = dc.stats(:items)
slabs = dc.stats(:slabs)
checks = {
  'general' => general.values.any? { |s| s['get_hits'].to_i != 0 },
  'items' => items.values.all? { |s| s.keys.any? { |k| k =~ /items:[0-9]+:number/ } },
  'slabs' => slabs.values.any? { |s| s.keys.any? { |k| k =~ /[0-9]+:used_chunks/ } },
  'reset' => dc.reset_stats.all? { |ok| ok == true },
}
checks['reset_clears'] = dc.stats.fetch(server)['get_hits'] == '0'
puts JSON.generate({ 'general' => shape.(general), 'items' => shape.(items), 'slabs' => shape.(slabs), 'checks' => checks })
