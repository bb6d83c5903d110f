import { describe, expect, it } from 'vitest';
import { addressKey } from './address-key.js';

describe('addressKey', () => {
  it('counts an IPv4 address, mapped or not, as itself', () => {
    expect(addressKey('198.18.0.7')).toBe('198.18.0.7');
    expect(addressKey('::ffff:198.18.0.7')).toBe('198.18.0.7');
  });

  it('counts every IPv6 address of one /64 as one client', () => {
    const a = addressKey('2001:db8:1:2::1');
    expect(a).toBe('2001:0db8:0001:0002::/64');
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:fffe')).toBe(a);
    expect(addressKey('2001:DB8:1:2:0:0:0:9')).toBe(a);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(a);
    expect(addressKey('::1')).toBe('0000:0000:0000:0000::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0000:0000:0000::/64');
  });

  it('leaves what is not an address alone', () => {
    expect(addressKey('unknown')).toBe('unknown');
  });
});
