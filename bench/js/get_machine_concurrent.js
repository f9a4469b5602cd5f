#!/usr/bin/env node
/*
 * GetMachine with many calls in flight through node-triton's library client.
 *
 * The first stdin line configures: {"url", "account", "keyId", "configDir", "ids",
 * "inflight", "calls"}. The client is made with require('triton').createClient from an
 * in-memory profile and makes one untimed round first. Every further stdin line "round"
 * makes `calls` GetMachine calls over the ids, `inflight` at a time, and prints
 * {"wall": seconds, "cpu": seconds of this process's CPU (user + system), "calls": N}.
 * The client closes when stdin ends.
 */
'use strict';


var bench = require('./measure');

function round(cloudapi, ids, calls, inflight, callback) {
    var started = 0;
    var finished = 0;
    var failed = null;
    var wallBegin = bench.now();
    var cpuBegin = process.cpuUsage();
    function launch() {
        if (started === calls || failed) {
            return;
        }
        var id = ids[started % ids.length];
        started += 1;
        cloudapi.getMachine(id, function (err, machine) {
            if (!err && machine.id !== id) {
                err = new Error('asked for machine ' + id + ', got ' + machine.id);
            }
            if (err && !failed) {
                failed = err;
                callback(err);
                return;
            }
            finished += 1;
            if (finished === calls) {
                var cpu = process.cpuUsage(cpuBegin);
                callback(null, {
                    wall: bench.now() - wallBegin,
                    cpu: (cpu.user + cpu.system) / 1e6,
                    calls: calls
                });
                return;
            }
            launch();
        });
    }
    for (var i = 0; i < inflight; i++) {
        launch();
    }
}

bench.serveClient('get_machine_concurrent.js', function (cloudapi, config, done) {
    var warm = Math.min(config.calls, config.inflight * 2);
    round(cloudapi, config.ids, warm, config.inflight, function (err) {
        done(err);
    });
}, function (cloudapi, config, done) {
    round(cloudapi, config.ids, config.calls, config.inflight, done);
});
