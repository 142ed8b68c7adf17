import { expect } from 'chai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection } from '../helpers/raw-connection.js';

/** Sends bytes, optionally half-closes, and collects everything until the server closes. */
async function exchange(port: number, writes: string[], halfClose: boolean): Promise<{ reply: string; closedByServer: boolean }> {
  const conn = await RawConnection.open(port, { allowHalfOpen: true });
  try {
    // Separate writes in one turn, as a client that pipelines them does.
    await Promise.all(writes.map((data) => conn.send(data)));
    if (halfClose) conn.end();
    const res = await conn.readUntilClose(5000);
    if (conn.error) throw conn.error;
    return { reply: res.data.toString('latin1'), closedByServer: res.closed };
  } finally {
    await conn.close();
  }
}

describe('e2e: connection lifecycle', function () {
  this.timeout(30000);
  let gateway: RunningGateway;

  before(async () => {
    gateway = await startGateway();
  });

  after(async () => {
    await gateway.stop();
  });

  it('answers every request of a client that half-closes after sending them, then closes', async () => {
    const { reply, closedByServer } = await exchange(gateway.port, ['set hc 0 0 1\r\nx\r\nget hc\r\nincr nope 1\r\n'], true);
    expect(reply).to.equal('STORED\r\nVALUE hc 0 1\r\nx\r\nEND\r\nNOT_FOUND\r\n');
    expect(closedByServer).to.equal(true);
  });

  it('closes on quit after earlier replies, and runs nothing sent after it', async () => {
    const { reply, closedByServer } = await exchange(gateway.port, [
      'set before-quit 0 0 1\r\nx\r\nquit\r\n',
      'set after-quit 0 0 1\r\ny\r\n',
    ], false);
    expect(reply).to.equal('STORED\r\n');
    expect(closedByServer).to.equal(true);
    const check = await exchange(gateway.port, ['get before-quit after-quit\r\n'], true);
    expect(check.reply).to.equal('VALUE before-quit 0 1\r\nx\r\nEND\r\n');
  });

  it('closes on an HTTP request line', async () => {
    const { reply, closedByServer } = await exchange(gateway.port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n'], false);
    expect(reply).to.equal('');
    expect(closedByServer).to.equal(true);
  });
});
