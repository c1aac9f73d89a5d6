/** An ID number as the platform masks it (shared.identity.mask_id): the first and last four
 * characters from nine characters on, else the first and last one, and nothing at two or fewer. */
export function maskId(id: string): string {
  const value = id.trim()
  const n = value.length
  if (n >= 9) return value.slice(0, 4) + '*'.repeat(n - 8) + value.slice(-4)
  if (n <= 2) return '*'.repeat(n)
  return value[0] + '*'.repeat(n - 2) + value[n - 1]
}

/** A bank account: only its last four digits. */
export function maskAccount(account: string): string {
  return account.length <= 4 ? account : `****${account.slice(-4)}`
}
