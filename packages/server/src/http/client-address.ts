import { BlockList, isIP } from 'node:net';

/**
 * Who a request counts as for per-address limits: a shopper's address, or a declared front end
 * (a server-side renderer calling for many shoppers) that forwarded no shopper address.
 */
export type Caller = { kind: 'address'; address: string } | { kind: 'front end'; address: string };

/** `::ffff:1.2.3.4` is the IPv4 client 1.2.3.4 on a dual-stack socket; ports some proxies add go too. */
export function normalizeAddress(raw: string): string | null {
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (/^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(value)) value = value.slice(7);
  return isIP(value) ? value.toLowerCase() : null;
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 4 ? 'ipv4' : 'ipv6';
}

/** Parses `10.0.0.0/8, 192.0.2.7, 2001:db8::/32`; throws naming the first entry that is not one. */
function parseList(list: string): BlockList {
  const blocks = new BlockList();
  for (const entry of list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [host, bits, extra] = entry.split('/');
    const address = host === undefined ? null : normalizeAddress(host);
    if (!address || extra !== undefined) throw new Error(`has "${entry}", which is not an address or CIDR`);
    if (bits === undefined) {
      blocks.addAddress(address, family(address));
      continue;
    }
    const prefix = Number(bits);
    const max = family(address) === 'ipv4' ? 32 : 128;
    if (!/^\d+$/.test(bits) || prefix > max) throw new Error(`has "${entry}", whose prefix is not 0-${max}`);
    blocks.addSubnet(address, prefix, family(address));
  }
  return blocks;
}

/** Why a comma-separated list of addresses/CIDRs is refused, or null when it parses. */
export function addressListProblem(list: string): string | null {
  try {
    parseList(list);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The deployment's trust model: which hops may add `X-Forwarded-For` entries (TRUST_PROXY: none, a
 * hop count, or a list), and which callers are the storefront's own servers (TRUSTED_FRONTENDS).
 */
export class AddressModel {
  private readonly hops: number;
  private readonly proxies: BlockList | null;
  private readonly frontends: BlockList | null;

  constructor(trustProxy: string, trustedFrontends: string) {
    const value = trustProxy.trim().toLowerCase();
    this.hops = value === 'false' ? 0 : /^\d+$/.test(value) ? Number(value) : 0;
    this.proxies = value === 'false' || /^\d+$/.test(value) ? null : parseList(value);
    this.frontends = trustedFrontends.trim() ? parseList(trustedFrontends) : null;
  }

  /** Whether the hop `address`, `index` hops from this server (0: the socket's peer), may forward. */
  trusts(address: string, index: number): boolean {
    if (this.proxies) {
      const normal = normalizeAddress(address);
      return normal !== null && this.proxies.check(normal, family(normal));
    }
    return index < this.hops;
  }

  private isFrontend(address: string): boolean {
    return this.frontends?.check(address, family(address)) ?? false;
  }

  /**
   * The hops from this server outwards: the socket's peer, then `X-Forwarded-For` right to left.
   * Each proxy appends the address it saw, so only entries right of the first untrusted hop were
   * written by someone we trust; everything left of it is the client's own say (RFC 7239 §8.1).
   */
  private chain(peer: string, forwarded: string | string[] | undefined): string[] {
    const header = Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '');
    const entries = header ? header.split(',').reverse() : [];
    return [peer, ...entries];
  }

  /**
   * The client address: walking from this server outwards, the first hop that is not a trusted
   * proxy. An entry that is not an address ends the walk at the hop that wrote it.
   */
  clientAddress(peer: string, forwarded: string | string[] | undefined): string {
    return this.walk(this.chain(peer, forwarded)).address;
  }

  private walk(chain: string[]): { address: string; index: number } {
    let address = normalizeAddress(chain[0]!) ?? chain[0]!;
    let index = 0;
    while (index + 1 < chain.length && this.trusts(address, index)) {
      const next = normalizeAddress(chain[index + 1]!);
      if (!next) break;
      address = next;
      index++;
    }
    return { address, index };
  }

  /**
   * Who per-address limits count. A declared front end is never one shopper: the entry it appended
   * is the shopper's address; with none, the front end's own budget counts.
   */
  callerOf(peer: string, forwarded: string | string[] | undefined): Caller {
    const chain = this.chain(peer, forwarded);
    const { address, index } = this.walk(chain);
    if (!this.isFrontend(address)) return { kind: 'address', address };
    const raw = chain[index + 1];
    const shopper = raw === undefined ? null : normalizeAddress(raw);
    return shopper ? { kind: 'address', address: shopper } : { kind: 'front end', address };
  }
}
