#!/usr/bin/env node
/*
 * Time http-signature 1.4.0 `signRequest` with an sshpk private key, batch by batch, and,
 * as a baseline, node's own crypto.sign over the same bytes.
 *
 * Answers each stdin line with one JSON line:
 *   {"key": path, "keyId", "target", "warmupSeconds", "batchSeconds"}
 *       (each signRequest signs the target with a number after it, one more each time,
 *       as the smartdc side does: no two requests of a batch are the same)
 *       load the key (sshpk.parsePrivateKey) and warm both up
 *       -> {"batch": signRequest calls per batch, "rawBatch": crypto.sign calls per batch}
 *   "batch"  -> {"value": seconds per signRequest over one batch}
 *   "raw"    -> {"value": seconds per crypto.sign over one batch}
 *   "sample" -> {"date", "authorization"} of one more signRequest (of target + "0"),
 *               for checking
 *
 * Each signRequest is what a CloudAPI client makes per request: a fresh request with no
 * Date, so signRequest formats the Date header, builds the "(request-target) date" signing
 * string, signs it (sshpk hands the key to node's crypto as PEM on every signature; Ed25519
 * is signed in JavaScript by tweetnacl) and sets the Authorization header.
 * The baseline signs a fixed signing string with crypto.sign and a KeyObject made once:
 * node's OpenSSL alone, no header work.
 */
'use strict';

var crypto = require('crypto');
var fs = require('fs');
var readline = require('readline');

var bench = require('./measure');
var httpSignature = bench.peer('http-signature');
var sshpk = bench.peer('sshpk');

var SIGNED_HEADERS = ['(request-target)', 'date'];

/* The parts of http.ClientRequest that signRequest uses. */
function Request(method, target) {
    this.method = method;
    this.path = target;
    this.headers = {};
}
Request.prototype.getHeader = function (name) {
    return this.headers[name.toLowerCase()];
};
Request.prototype.setHeader = function (name, value) {
    this.headers[name.toLowerCase()] = value;
};

/* A KeyObject for node's crypto.sign, and the hash http-signature would use. */
function keyObject(key) {
    if (key.type === 'ed25519') {
        var jwk = {
            kty: 'OKP',
            crv: 'Ed25519',
            d: key.part.k.data.toString('base64url'),
            x: key.part.A.data.toString('base64url')
        };
        return {object: crypto.createPrivateKey({key: jwk, format: 'jwk'}), hash: null};
    }
    return {
        object: crypto.createPrivateKey(key.toBuffer('pkcs1')),
        hash: key.defaultHashAlgorithm()
    };
}

var config = null;
var key = null;
var raw = null;
var sizes = null;

var signed = 0;

function signOnce(target) {
    var request = new Request('GET', target || config.target + String(signed++));
    httpSignature.signRequest(request, {key: key, keyId: config.keyId, headers: SIGNED_HEADERS});
    return request;
}

function signRaw() {
    return crypto.sign(raw.hash, raw.data, raw.object);
}

function setUp(line) {
    config = JSON.parse(line);
    key = sshpk.parsePrivateKey(fs.readFileSync(config.key), 'auto');
    raw = keyObject(key);
    raw.data = Buffer.from('(request-target): get ' + config.target + '0\n' +
        'date: ' + new Date().toUTCString(), 'utf8');
    sizes = {
        batch: bench.calibrate(signOnce, config.warmupSeconds, config.batchSeconds),
        rawBatch: bench.calibrate(signRaw, config.warmupSeconds, config.batchSeconds)
    };
    return sizes;
}

function answer(line) {
    if (line === 'batch') {
        return {value: bench.timeBatch(signOnce, sizes.batch)};
    }
    if (line === 'raw') {
        return {value: bench.timeBatch(signRaw, sizes.rawBatch)};
    }
    if (line === 'sample') {
        var request = signOnce(config.target + '0');
        return {
            date: request.getHeader('date'),
            authorization: request.getHeader('authorization')
        };
    }
    return setUp(line);
}

readline.createInterface({input: process.stdin}).on('line', function (line) {
    process.stdout.write(JSON.stringify(answer(line)) + '\n');
});
