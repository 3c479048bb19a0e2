/**
 * Who an anonymous caller is, as far as the service can tell: its address. `req.ip` follows
 * TRUST_PROXY (off by default: the socket's peer, which a client cannot choose; on, the
 * X-Forwarded-For entry the trusted proxies vouch for). IPv6 addresses count per /64, the
 * block one subscriber usually holds (they pick any address in it at will); IPv4-mapped IPv6
 * addresses count as the IPv4 address.
 */
import { hash } from 'node:crypto';
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';

const IPV6_SUBNET = 64;

export function clientAddress(req: Pick<FastifyRequest, 'ip'>): string {
  return rateLimitPlugin.normalizeIP(req.ip, IPV6_SUBNET);
}

/** A short one-way digest (128 bits, base64url): keys in shared stores never hold an address or a token in clear. */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url').slice(0, 22);
}
