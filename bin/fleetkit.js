#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI without a build step: tsx compiles cli/ and core/ on load.
require('tsx/cjs/api').register();

const { main } = require('../cli/index.ts');

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
