import { clientClosed, clientOpened, clientsAwaitingRelease } from '../../agent/native-clients';

/** Resolves once every closed client has been collected; the test's timeout is the bound. */
async function released(): Promise<void> {
  while (clientsAwaitingRelease() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('once no client is open, asks V8 to collect the closed ones: their native handles go with their wrappers', async () => {
  // Stand-ins for SDK clients: only their collection is observed.
  const open = () => {
    clientOpened();
    return { wrapper: Buffer.alloc(1024) };
  };
  let first: object | undefined = open();
  let second: object | undefined = open();
  clientClosed(first);
  first = undefined;
  expect(clientsAwaitingRelease()).toBe(1);
  clientClosed(second);
  second = undefined;

  // An idle V8 would collect them only after many seconds (past this test's timeout); the agent asks for it.
  await released();
  expect(clientsAwaitingRelease()).toBe(0);
});
