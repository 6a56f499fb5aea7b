/**
 * A replica's name in lane labels (`chronos2@10.0.0.5:11435`): host and port, plus the path
 * prefix if it has one — enough to tell replicas apart, and no credentials or query (URLs never
 * reach responses or metrics whole).
 */
export function replicaLabel(url: string): string {
  const u = new URL(url)
  const path = u.pathname.replace(/\/+$/, '')
  return u.host + path
}
