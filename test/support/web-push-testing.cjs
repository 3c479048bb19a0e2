// Runs web-push-testing (a real local push service: checks the VAPID JWT, decrypts aes128gcm)
// in its own process. Why a launcher instead of its bin or startServer():
// - its package `main` points at a file that does not exist, so we require src/ directly;
// - startServer() listens on every address and calls process.exit on a listen error;
//   here we listen on 127.0.0.1 only, on port 0 (the OS picks a free one: no port race);
// - its endpoints say http://localhost:<port>, which may resolve to ::1; we use 127.0.0.1.
// Prints `PORT=<n>` on stdout once listening. Exits when stdin closes, so it never outlives
// the test process or bench that started it.
'use strict';
const TestingServer = require('web-push-testing/src/server.js');
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');

const model = new PushApiModel();
const server = new TestingServer(model, 0);
server.setRequestHandlers();

const http = server._app.listen(0, '127.0.0.1', () => {
  const { port } = http.address();
  model.notifyUrl = `http://127.0.0.1:${port}/notify/`;
  process.stdout.write(`PORT=${port}\n`);
});
// Longer than clients' idle keep-alive (undici: 4 s), so the server never closes a socket a
// client is about to reuse (that race shows up as a spurious ECONNRESET).
http.keepAliveTimeout = 30_000;
http.on('error', (err) => {
  process.stderr.write(`web-push-testing: ${err.stack || err}\n`);
  process.exit(1);
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
