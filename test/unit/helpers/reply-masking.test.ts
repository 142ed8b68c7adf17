import { expect } from 'chai';
import { maskTextReply, render } from '../../helpers/reply-masking.js';

describe('test helper reply-masking', function () {
  describe('maskTextReply', function () {
    it('masks cas uniques and VERSION lines but copies value data verbatim', function () {
      const data = 'END\r\nVALUE x 0 1 99\r\nVERSION 9\r\n';
      const reply = Buffer.from(
        `VALUE k 5 ${data.length} 12345\r\n${data}\r\nVALUE j 0 1\r\nz\r\nEND\r\nVERSION 1.6.18\r\n`,
        'latin1',
      );
      const { masked, cas } = maskTextReply(reply);
      expect(masked.toString('latin1')).to.equal(
        `VALUE k 5 ${data.length} <cas>\r\n${data}\r\nVALUE j 0 1\r\nz\r\nEND\r\nVERSION <version>\r\n`,
      );
      expect([...cas]).to.deep.equal([['k', '12345']]);
    });

    it('handles keys with control characters and truncated replies', function () {
      const { masked, cas } = maskTextReply(Buffer.from('VALUE a\x01\rb 0 2 7\r\nx', 'latin1'));
      expect(masked.toString('latin1')).to.equal('VALUE a\x01\rb 0 2 <cas>\r\nx');
      expect(cas.get('a\x01\rb')).to.equal('7');
    });
  });

  describe('render', function () {
    it('escapes non-printables and compresses long runs losslessly', function () {
      expect(render(Buffer.from('a\r\n\x00\\{', 'latin1'))).to.equal('a\\r\\n\\x00\\\\\\x7b');
      expect(render(Buffer.from('x'.repeat(17)))).to.equal('{x*17}');
      expect(render(Buffer.from('x'.repeat(16)))).to.equal('x'.repeat(16));
    });
  });
});
