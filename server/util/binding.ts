/** Which addresses may be bound without a token: the one rule `serve` and `mock-sts` share. */
import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { TokenRequiredError } from '../errors.js'

/** Resolve a name to all its addresses (dns.lookup with all: true); injectable so tests need no DNS. */
export type LookupAll = (host: string) => Promise<Array<{ address: string }>>

export const lookupAll: LookupAll = async (host) => dnsLookup(host, { all: true, verbatim: true })

/** Is `host` (a Host header's hostname, or a name as written) this machine only, by its spelling? */
export function isLoopback (host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h)
}

// BlockList normalises every IPv6 spelling (::1, 0:0:…:1, IPv4-mapped ::ffff:7f00:1) for us.
const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Is this IP address literal a loopback address (127.0.0.0/8, ::1, or 127.x mapped into IPv6)? */
export function isLoopbackAddress (address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '')
  const family = isIP(a)
  return family !== 0 && LOOPBACK.check(a, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Does binding `host` listen on loopback only? Decided by the addresses it resolves to, never by the
 * name: `dev.localhost` mapped to a LAN address in /etc/hosts is not loopback. Every address must be
 * loopback; a name that does not resolve is not known to be loopback.
 */
export async function bindsLoopbackOnly (host: string, lookup: LookupAll = lookupAll): Promise<boolean> {
  const bare = host.replace(/^\[|\]$/g, '')
  if (isIP(bare) !== 0) return isLoopbackAddress(bare)
  let addresses: Array<{ address: string }>
  try {
    addresses = await lookup(bare)
  } catch {
    return false
  }
  return addresses.length > 0 && addresses.every(a => isLoopbackAddress(a.address))
}

/** Refuse (TokenRequiredError) to bind anything that is not loopback-only without a token. */
export async function assertBindingAllowed (host: string, token: string | null | undefined, lookup: LookupAll = lookupAll): Promise<void> {
  if (token) return
  if (!(await bindsLoopbackOnly(host, lookup))) throw new TokenRequiredError(host)
}
