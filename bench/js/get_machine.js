#!/usr/bin/env node
/*
 * Sequential GetMachine calls through node-triton's library client, in rounds.
 *
 * The first stdin line configures: {"url", "account", "keyId", "configDir", "ids",
 * "warmup"}. The client is made with require('triton').createClient from an in-memory
 * profile; it finds the key in ~/.ssh by its fingerprint, as the CLI does. After
 * `warmup` untimed calls it prints {"ready": true, "connections": N}. Then every stdin
 * line "round" makes one call per id, one after another, each timed on its own, and
 * prints {"values": [seconds per call ...], "connections": TCP connections opened
 * meanwhile}.
 * The client closes when stdin ends.
 */
'use strict';

var net = require('net');

var bench = require('./measure');

/* Count every TCP connection this process opens, to show whether keep-alive held. */
var connectionsOpened = 0;
var originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function () {
    connectionsOpened += 1;
    return originalConnect.apply(this, arguments);
};

function getAll(cloudapi, ids, callback) {
    var values = [];
    var connectionsBefore = connectionsOpened;
    var index = 0;
    function next() {
        if (index === ids.length) {
            callback(null, {
                values: values,
                connections: connectionsOpened - connectionsBefore
            });
            return;
        }
        var id = ids[index++];
        var begin = bench.now();
        cloudapi.getMachine(id, function (err, machine, res) {
            var elapsed = bench.now() - begin;
            if (err) {
                callback(err);
                return;
            }
            if (machine.id !== id) {
                callback(new Error('asked for machine ' + id + ', got ' + machine.id));
                return;
            }
            values.push(elapsed);
            next();
        });
    }
    next();
}

bench.serveClient('get_machine.js', function (cloudapi, config, done) {
    getAll(cloudapi, config.ids.slice(0, config.warmup), function (err) {
        done(err, {connections: connectionsOpened});
    });
}, function (cloudapi, config, done) {
    getAll(cloudapi, config.ids, done);
});
