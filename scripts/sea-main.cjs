'use strict';
// The single executable's main script (scripts/package.mjs bundles it, with bin/launcher.js and bin/code-cache.js,
// into the one file a SEA runs): what bin/aws-rekey does, from the assets the build embedded instead of files. The
// bundle is the npm package's dist/bundle/cli.cjs, compiled with its own code cache (kind `sea`) in the same folder.
// A SEA's require() loads only Node's own modules, which is all the bundle requires (its optional
// @aws-sdk/signature-v4-crt is tried and left out, as before).
const sea = require('node:sea');
const { launch } = require('../bin/launcher.js');

launch(process.argv.slice(2), {
  version: () => sea.getAsset('version', 'utf8'),
  helpTexts: () => JSON.parse(sea.getAsset('help.json', 'utf8')),
  bundle: () => ({
    ...JSON.parse(sea.getAsset('cli.json', 'utf8')),
    // As Node names the main script of a SEA.
    file: process.execPath,
    // The asset in place (getRawAsset copies nothing) read as latin1 (the bundle is ASCII): Node makes a string that
    // large outside V8's heap, as it does for the package's file.
    source: Buffer.from(sea.getRawAsset('cli.cjs')).toString('latin1'),
    require,
    kind: 'sea',
  }),
});
