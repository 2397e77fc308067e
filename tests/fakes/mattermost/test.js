'use strict';
// Entry point for `node --test mattermost/test.js` (or `node --test
// mattermost/`): node 20's runner only picks up names like test.js /
// *.test.js in a directory, while ctest registers every mattermost/test_*.js
// on its own (CMakeLists.txt). This file runs them all.
const fs = require('node:fs');

for (const f of fs.readdirSync(__dirname).sort()) {
  if (/^test_.*\.js$/.test(f)) require(`./${f}`);
}
