// Files the API serves behind the user's token (PDFs to print, xlsx exports): fetched with the token,
// then handed to the browser as a local object URL, saved under the name the API gives.

/** The file name of a Content-Disposition header (RFC 6266: filename* in UTF-8 first), else the fallback. */
export function filenameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim())
    } catch {
      /* a malformed name: the plain one or the fallback */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;\s]+)/i.exec(disposition)
  const name = plain ? (plain[1] ?? plain[2]) : ''
  // Never a path: only the last part, without anything a file system would read as a folder.
  const base = name.split(/[\\/]/).pop() ?? ''
  return base && base !== '.' && base !== '..' ? base : fallback
}

/** An export's address: the filters that are set, in a query string. */
export function exportAddress(path: string, filters: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value)
  const text = query.toString()
  return text ? `${path}?${text}` : path
}
