// Test preload (`node --import`): SIGUSR2 throws an exception that nothing catches, outside any
// request — the defect the gateway's process supervisor must handle. Workers forked by node:cluster
// inherit the preload through execArgv.

process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('injected defect (test)');
  });
});
