// Preloaded into the server process by overload.test.ts (`node --expose-gc --import <this> …`): runs a
// full garbage collection every 5 s, so that the RSS the test samples reflects memory the server keeps,
// not how far V8 lets its heap grow before its next major GC (see the test's header). It changes no
// request handling.
if (typeof globalThis.gc === 'function') setInterval(() => globalThis.gc(), 5000).unref();
else process.stderr.write('gc-pacer: start node with --expose-gc\n');
