/*
 * Timing a repeated operation, the same procedure as bench/measure.py: run it for
 * `warmupSeconds` (at least 3 times), size a batch to take about `batchSeconds`, then time
 * batches. Each sample is one batch's time divided by its size, in seconds.
 */
'use strict';

var path = require('path');

function now() {
    return Number(process.hrtime.bigint()) / 1e9;
}

function batchSize(secondsPerOp, batchSeconds) {
    if (secondsPerOp <= 0) {
        return 1000;
    }
    return Math.max(1, Math.ceil(batchSeconds / secondsPerOp));
}

function calibrate(operation, warmupSeconds, batchSeconds) {
    var done = 0;
    var started = now();
    for (;;) {
        operation();
        done += 1;
        var elapsed = now() - started;
        if (elapsed >= warmupSeconds && done >= 3) {
            return batchSize(elapsed / done, batchSeconds);
        }
    }
}

function timeBatch(operation, size) {
    var begin = now();
    for (var i = 0; i < size; i++) {
        operation();
    }
    return (now() - begin) / size;
}

/* The peers' node_modules: $SMARTDC_NODE_MODULES, else <repo>/.node/node_modules. */
function modulesDir() {
    return process.env.SMARTDC_NODE_MODULES ||
        path.resolve(__dirname, '..', '..', '.node', 'node_modules');
}

function peer(name) {
    return require(path.join(modulesDir(), name));
}

/*
 * The protocol of the long-lived client scripts. The first stdin line configures
 * ({"url", "account", "keyId", "configDir", ...}); a node-triton client is made from it with
 * an in-memory profile (it finds the key in ~/.ssh by its fingerprint, as the CLI does), then
 * `warm(cloudapi, config, done)` runs and {"ready": true, ...what done was given} is
 * printed. Every further line runs `round(cloudapi, config, done)` and prints what done was
 * given. The client closes when stdin ends; an error ends the script.
 */
function serveClient(script, warm, round) {
    var readline = require('readline');
    var triton = peer('triton');
    var lines = readline.createInterface({input: process.stdin});
    var config = null;
    var client = null;

    function fail(err) {
        process.stderr.write(script + ': ' + (err.stack || err) + '\n');
        process.exit(1);
    }

    function answer(err, result) {
        if (err) {
            fail(err);
        }
        process.stdout.write(JSON.stringify(result) + '\n');
    }

    lines.on('line', function (line) {
        if (config !== null) {
            round(client.cloudapi, config, answer);
            return;
        }
        config = JSON.parse(line);
        triton.createClient({
            profile: {url: config.url, account: config.account, keyId: config.keyId},
            configDir: config.configDir
        }, function (err, made) {
            if (err) {
                fail(err);
            }
            client = made;
            warm(client.cloudapi, config, function (wErr, extra) {
                answer(wErr, Object.assign({ready: true}, extra || {}));
            });
        });
    });

    lines.on('close', function () {
        if (client !== null) {
            client.close();
        }
    });
}

module.exports = {
    calibrate: calibrate,
    now: now,
    peer: peer,
    serveClient: serveClient,
    timeBatch: timeBatch
};
