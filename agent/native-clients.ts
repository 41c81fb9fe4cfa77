/**
 * Releasing the AWS IoT Device SDK's native MQTT clients, so that a process that stopped its agents exits.
 *
 * aws-crt (the SDK's native core) frees an MQTT 5 client, and the thread-safe functions through which it calls
 * into JavaScript, only when V8 garbage-collects the client's JavaScript wrapper: `close()` merely drops the
 * binding's references to it (`aws_napi_mqtt5_client_close` in aws-crt's source/mqtt5_client.c; reported upstream
 * as awslabs/aws-crt-nodejs#600). Those thread-safe functions keep Node's event loop alive, so a process whose
 * agents have all stopped would stay up until V8 happens to collect, which an idle process does after seconds to
 * tens of seconds. `fleetkit agent` would linger after Ctrl-C, and a test runner would not exit.
 *
 * So the agent counts the clients it opened and, once none is open, asks V8 for a collection, again until every
 * closed client has been collected (seen through a FinalizationRegistry), at most {@link MAX_COLLECTIONS} times.
 * The collection runs only when no client is open: it never slows a running fleet of simulated devices. The
 * collector is reached as jest-leak-detector reaches it: `--expose-gc` set at run time, `gc` read from a fresh
 * context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collections tried after the last client closed; each waits {@link COLLECTION_DELAY_MS} for finalizers. */
const MAX_COLLECTIONS = 10;
const COLLECTION_DELAY_MS = 50;

let open = 0;
let awaitingCollection = 0;
let collections = 0;
let timer: NodeJS.Timeout | undefined;
let collect: (() => void) | undefined;

const finalized = new FinalizationRegistry<undefined>(() => {
  awaitingCollection -= 1;
});

/** Counts a native client as open. */
export function clientOpened(): void {
  open += 1;
  collections = 0;
}

/**
 * Counts a closed native client (after its `close()`), whose wrapper V8 must collect to free it; when no client is
 * open any more, schedules collections until it and every other closed client are gone.
 */
export function clientClosed(client: object): void {
  open -= 1;
  awaitingCollection += 1;
  finalized.register(client, undefined);
  schedule();
}

/** Closed clients whose native resources are still held (their wrappers not yet collected). */
export function clientsAwaitingRelease(): number {
  return awaitingCollection;
}

function schedule(): void {
  if (timer !== undefined || open > 0 || awaitingCollection <= 0 || collections >= MAX_COLLECTIONS) return;
  // Unreferenced: the timer itself never keeps the process alive; the clients' handles do until collected.
  timer = setTimeout(() => {
    timer = undefined;
    if (open > 0 || awaitingCollection <= 0) return;
    collections += 1;
    garbageCollector()();
    schedule();
  }, COLLECTION_DELAY_MS).unref();
}

function garbageCollector(): () => void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}
