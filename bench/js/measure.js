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

module.exports = {
    calibrate: calibrate,
    now: now,
    peer: peer,
    timeBatch: timeBatch
};
