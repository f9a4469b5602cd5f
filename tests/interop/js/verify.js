#!/usr/bin/env node
/*
 * Verify HTTP Signature requests exactly as CloudAPI does, with http-signature 1.4.0.
 *
 * stdin: {"cases": [{"name", "method", "url", "headers": {...}, "publicKey"}]}
 *   url is the raw request target (path and query as sent); publicKey is an OpenSSH
 *   one-line public key, or null to only parse.
 * stdout: {"<name>": {"parsed", "verified", "error", "keyId", "algorithm", "signingString"}}
 *
 * Modules resolve from $SMARTDC_NODE_MODULES, else <repo>/.node/node_modules.
 */
'use strict';

var path = require('path');

var root = path.resolve(__dirname, '..', '..', '..');
var modules = process.env.SMARTDC_NODE_MODULES || path.join(root, '.node', 'node_modules');
var httpSignature = require(path.join(modules, 'http-signature'));
var sshpk = require(path.join(modules, 'sshpk'));

// CloudAPI's authorization parser options (lib/authorization-parser.js).
var OPTIONS = {
    algorithms: [
        'rsa-sha1', 'rsa-sha256', 'rsa-sha384', 'rsa-sha512',
        'dsa-sha1', 'dsa-sha256',
        'ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512',
        'ed25519-sha256', 'ed25519-sha512'
    ]
};

function check(c) {
    var headers = {};
    Object.keys(c.headers).forEach(function (name) {
        headers[name.toLowerCase()] = c.headers[name];
    });
    var request = {method: c.method, url: c.url, httpVersion: '1.1', headers: headers};
    var verdict = {parsed: false, verified: false, error: null};
    var parsed;
    try {
        parsed = httpSignature.parseRequest(request, JSON.parse(JSON.stringify(OPTIONS)));
    } catch (err) {
        verdict.error = err.message;
        return verdict;
    }
    verdict.parsed = true;
    verdict.keyId = parsed.keyId;
    verdict.algorithm = parsed.params.algorithm;
    verdict.signingString = parsed.signingString;
    if (c.publicKey) {
        try {
            verdict.verified = httpSignature.verifySignature(
                parsed, sshpk.parseKey(c.publicKey, 'ssh'));
        } catch (err) {
            verdict.error = err.message;
        }
    }
    return verdict;
}

var input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', function (chunk) { input += chunk; });
process.stdin.on('end', function () {
    var results = {};
    JSON.parse(input).cases.forEach(function (c) {
        results[c.name] = check(c);
    });
    process.stdout.write(JSON.stringify(results));
});
