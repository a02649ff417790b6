import {ArrangedRow, Arranger, nextSortKey} from '../cgroup/arrange.js'
import {SortKey} from '../cgroup/snapshot.js'
import {CgroupStats} from '../cgroup/rates.js'

/**
 * What the dashboard shows and how keys change it, apart from blessed so that it is tested
 * without a terminal. The selection follows a cgroup path, not a row number, so re-sorting
 * or a cgroup appearing above does not move it to another cgroup.
 */
export type KeyResult = 'render' | 'quit' | 'none' | 'selection'

export class DashboardState {
  sort: SortKey
  flat: boolean
  paused = false
  helpShown = false
  /** undefined: not editing; a string: the filter being typed. */
  filterDraft: string | undefined
  filter = ''
  readonly collapsed = new Set<string>()
  selectedPath: string | undefined
  rows: ArrangedRow[] = []
  /** First visible row. */
  scroll = 0
  private stats: CgroupStats[] = []
  private readonly arranger = new Arranger()

  constructor(opts: {sort: SortKey; flat: boolean}) {
    this.sort = opts.sort
    this.flat = opts.flat
  }

  update(stats: CgroupStats[]): void {
    this.stats = stats
    this.rearrange()
  }

  rearrange(): void {
    const filter = this.filterDraft ?? this.filter
    this.rows = this.arranger.arrange(this.stats, {sort: this.sort, flat: this.flat, filter, collapsed: this.collapsed})
    if (this.selectedIndex() < 0) this.selectedPath = this.rows[0]?.stats.path
  }

  selectedIndex(): number {
    return this.rows.findIndex((r) => r.stats.path === this.selectedPath)
  }

  selected(): ArrangedRow | undefined {
    return this.rows[this.selectedIndex()]
  }

  /** Keep the selection inside a window of `height` rows. */
  visibleRows(height: number): ArrangedRow[] {
    const i = Math.max(0, this.selectedIndex())
    if (i < this.scroll) this.scroll = i
    if (i >= this.scroll + height) this.scroll = i - height + 1
    this.scroll = Math.max(0, Math.min(this.scroll, Math.max(0, this.rows.length - height)))
    return this.rows.slice(this.scroll, this.scroll + height)
  }

  private move(delta: number): KeyResult {
    if (this.rows.length === 0) return 'none'
    const i = Math.max(0, Math.min(this.rows.length - 1, Math.max(0, this.selectedIndex()) + delta))
    const before = this.selectedPath
    this.selectedPath = this.rows[i].stats.path
    return before === this.selectedPath ? 'none' : 'selection'
  }

  /** Apply a key (blessed's key name, and the character typed). */
  key(name: string | undefined, ch: string | undefined, pageSize = 10): KeyResult {
    if (this.filterDraft !== undefined) return this.filterKey(name, ch)
    if (this.helpShown) {
      if (name === 'q' || (name === 'c' && ch === '\u0003')) return 'quit'
      this.helpShown = false
      return 'render'
    }
    switch (name) {
      case 'q':
        return 'quit'
      case 'up':
      case 'k':
        return this.move(-1)
      case 'down':
      case 'j':
        return this.move(1)
      case 'pageup':
        return this.move(-pageSize)
      case 'pagedown':
        return this.move(pageSize)
      case 'home':
        return this.move(-this.rows.length)
      case 'end':
        return this.move(this.rows.length)
      // blessed reports a carriage return twice, as 'return' then 'enter': act on 'enter' only.
      case 'enter':
      case 'space': {
        const row = this.selected()
        if (!row || !row.hasChildren) return 'none'
        if (this.collapsed.has(row.stats.path)) this.collapsed.delete(row.stats.path)
        else this.collapsed.add(row.stats.path)
        this.rearrange()
        return 'render'
      }
      case 's':
        this.sort = nextSortKey(this.sort)
        this.rearrange()
        return 'render'
      case 'f':
        this.flat = !this.flat
        this.rearrange()
        return 'render'
      case 'p':
        this.paused = !this.paused
        return 'render'
      case '/':
        this.filterDraft = this.filter
        return 'render'
      case 'escape':
        if (this.filter === '') return 'none'
        this.filter = ''
        this.rearrange()
        return 'render'
      case '?':
        this.helpShown = true
        return 'render'
    }
    if (ch === '/') {
      this.filterDraft = this.filter
      return 'render'
    }
    if (ch === '?') {
      this.helpShown = true
      return 'render'
    }
    return 'none'
  }

  private filterKey(name: string | undefined, ch: string | undefined): KeyResult {
    const draft = this.filterDraft ?? ''
    if (name === 'return') return 'none'
    if (name === 'enter') {
      this.filter = draft
      this.filterDraft = undefined
    } else if (name === 'escape') {
      this.filterDraft = undefined
    } else if (name === 'backspace') {
      this.filterDraft = draft.slice(0, -1)
    } else if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\u007f') {
      this.filterDraft = draft + ch
    } else {
      return 'none'
    }
    this.rearrange()
    return 'render'
  }
}
