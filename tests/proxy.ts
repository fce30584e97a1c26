/**
 * An in-test TCP proxy on loopback, put between a replica and its primary to inject
 * link faults: cut every connection, refuse new ones for a while, or stall the bytes
 * in flight (the peers see a silent link, as with a network partition).
 */

interface Pipe {
  a: Deno.TcpConn;
  b: Deno.TcpConn;
}

/** A loopback TCP proxy to 127.0.0.1:targetPort. */
export class Proxy {
  readonly port: number;
  readonly targetPort: number;
  #listener: Deno.TcpListener;
  #pipes = new Set<Pipe>();
  #down = false;
  #stalled = false;
  #resume: Array<() => void> = [];
  #closed = false;
  #tasks = new Set<Promise<void>>();
  /** connections accepted so far */
  accepted = 0;
  /** bytes forwarded from the target to the clients (primary → replica) */
  downstreamBytes = 0;
  #stallAt = Infinity;

  private constructor(listener: Deno.TcpListener, targetPort: number) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.targetPort = targetPort;
    this.#track(this.#acceptLoop());
  }

  /** Starts a proxy on a free port forwarding to 127.0.0.1:targetPort. */
  static start(targetPort: number): Proxy {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new Proxy(listener, targetPort);
  }

  #track(p: Promise<void>): void {
    this.#tasks.add(p);
    p.finally(() => this.#tasks.delete(p));
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let a: Deno.TcpConn;
      try {
        a = await this.#listener.accept();
      } catch {
        return;
      }
      this.accepted++;
      if (this.#down || this.#closed) {
        a.close();
        continue;
      }
      let b: Deno.TcpConn;
      try {
        b = await Deno.connect({ hostname: "127.0.0.1", port: this.targetPort });
      } catch {
        a.close();
        continue;
      }
      a.setNoDelay(true);
      b.setNoDelay(true);
      const pipe = { a, b };
      this.#pipes.add(pipe);
      this.#track(this.#pump(pipe, a, b, false));
      this.#track(this.#pump(pipe, b, a, true));
    }
  }

  async #pump(pipe: Pipe, from: Deno.TcpConn, to: Deno.TcpConn, down: boolean): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        if (this.#stalled) await new Promise<void>((r) => this.#resume.push(r));
        let n = await from.read(down ? buf.subarray(0, 4096) : buf);
        if (n === null) break;
        if (down && this.downstreamBytes + n >= this.#stallAt) {
          // forward exactly up to the threshold, then hold the rest
          const first = this.#stallAt - this.downstreamBytes;
          let off = 0;
          while (off < first) off += await to.write(buf.subarray(off, first));
          this.downstreamBytes += first;
          this.#stallAt = Infinity;
          this.#stalled = true;
          buf.copyWithin(0, first, n);
          n -= first;
        }
        if (this.#stalled) await new Promise<void>((r) => this.#resume.push(r));
        if (down) this.downstreamBytes += n;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // either side went away
    }
    this.#closePipe(pipe);
  }

  #closePipe(pipe: Pipe): void {
    if (!this.#pipes.delete(pipe)) return;
    for (const c of [pipe.a, pipe.b]) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }

  /** Closes every connection going through the proxy (both ends see a reset/EOF). */
  cut(): void {
    for (const pipe of [...this.#pipes]) this.#closePipe(pipe);
  }

  /** While down, new connections are accepted and closed at once. */
  setDown(down: boolean): void {
    this.#down = down;
  }

  /** Stops (or resumes) forwarding bytes in both directions, keeping connections open. */
  stall(on: boolean): void {
    this.#stalled = on;
    if (!on) {
      const waiting = this.#resume.splice(0);
      for (const r of waiting) r();
    }
  }

  /** Stalls the link once `bytes` more bytes went from the target to the clients. */
  stallAfter(bytes: number): void {
    this.#stallAt = this.downstreamBytes + bytes;
  }

  /** Number of live connections through the proxy. */
  get connections(): number {
    return this.#pipes.size;
  }

  /** Stops the proxy and closes everything. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* closed */ }
    this.stall(false);
    this.cut();
    await Promise.allSettled([...this.#tasks]);
  }
}
