// Preloaded into the server process by crash.test.ts (`node --import <this> src/main.ts serve`): traces,
// on stderr, every TCP connection the HTTP server accepts, the requests on it, and how many bytes it
// wrote before it closed — so the test can tell "the server accepted this connection" from "the kernel
// queued it", and see an accepted connection closed without an answer. It changes no behaviour.
import http from 'node:http';

const open = new Map(); // socket -> remote port
const trace = (line) => process.stderr.write(`accredit-trace ${line}\n`); // pipes are synchronous on Linux
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection') {
    const socket = args[0];
    const port = socket.remotePort; // kept: remotePort is gone once the socket is destroyed
    open.set(socket, port);
    trace(`accept ${port}`);
    socket.on('close', () => {
      open.delete(socket);
      trace(`close ${port} ${socket.bytesWritten}`);
    });
  } else if (event === 'request') {
    const req = args[0];
    trace(`request ${req.socket.remotePort} ${req.headers['x-request-id'] ?? '-'} ${req.method} ${req.url}`);
  }
  return emit.call(this, event, ...args);
};
// At exit, a socket already destroyed may not have emitted 'close' yet (it comes on a later tick):
// report those as closed, and count as open only the ones not destroyed.
process.on('exit', (code) => {
  let still = 0;
  for (const [socket, port] of open) {
    trace(`close ${port} ${socket.bytesWritten}`);
    if (!socket.destroyed) still++;
  }
  trace(`exit ${code} open=${still}`);
});
