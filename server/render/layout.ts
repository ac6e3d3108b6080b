/** What the layout needs on every page: title, navigation, and the sign-out form when a token is set. */
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface NavItem { href: string, label: string, current: boolean }

export interface LayoutModel {
  title: string
  nav: NavItem[]
  /** Token mode: the header shows a sign-out form, which needs a CSRF token. */
  signOut: { csrfToken: string } | null
}

const NAV: Array<{ href: string, label: string, section: string }> = [
  { href: '/', label: 'Dashboard', section: 'dashboard' },
  { href: '/denials', label: 'Denials', section: 'denials' },
  { href: '/import', label: 'Import', section: 'import' },
  { href: '/reports', label: 'Reports', section: 'reports' },
  { href: '/policies', label: 'Policies', section: 'policies' }
]

/** A CSRF token for the page's forms (sets the secret cookie on first use). */
export function csrfToken (reply: FastifyReply): string {
  return reply.generateCsrf()
}

export function layoutModel (req: FastifyRequest, reply: FastifyReply, title: string, section: string): LayoutModel {
  return {
    title,
    nav: NAV.map(n => ({ href: n.href, label: n.label, current: n.section === section })),
    signOut: req.server.config.token && req.url !== '/login' && !req.url.startsWith('/login?') ? { csrfToken: csrfToken(reply) } : null
  }
}
