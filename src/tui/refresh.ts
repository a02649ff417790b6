import type {ArrangedRow} from '../cgroup/arrange.js'
import {CgroupStats, deriveAll, rederive} from '../cgroup/rates.js'
import type {Collector} from '../cgroup/sample.js'
import type {Snapshot} from '../cgroup/snapshot.js'
import type {DashboardState} from './state.js'

/** Refreshes of history the charts keep. */
export const HISTORY = 60

/**
 * What the dashboard reads, and when: every row's sort key each refresh, every figure only
 * for the rows on screen (and those coming into view), rates from the last two samples,
 * and the history of the rows on screen for the charts. The dashboard (dashboard.ts) draws
 * what this holds.
 */
export class DashboardData {
  stats: CgroupStats[] = []
  /** Per path, the selected cgroup's recent CPU% and memory (bytes), for the charts. */
  readonly history = new Map<string, {cpu: number[]; mem: number[]}>()
  refreshes = 0
  /** Rows drawn at the last render (and the selection): they get every figure each refresh. */
  onScreen = new Set<string>()
  /** Rows read in full in the last sample (by it, or since by readComingIntoView). */
  private readFull = new Set<string>()
  private prev: Snapshot | undefined
  private lastSample: Snapshot | undefined
  private lastStats = new Map<string, CgroupStats>()

  constructor(
    private readonly collector: Collector,
    private readonly state: DashboardState,
  ) {}

  /** Whether a sample has been taken (the process list waits for one). */
  get sampled(): boolean {
    return this.lastSample !== undefined
  }

  /**
   * Rows that came into view (a key moved the window, or a re-sort moved them up) since the
   * last sample have only their sort key's figure in it: read the rest now, before drawing.
   */
  readComingIntoView(rows: readonly ArrangedRow[]): void {
    const last = this.lastSample
    if (!last) return
    let missing: string[] | undefined
    for (const r of rows) if (!this.readFull.has(r.stats.path)) (missing ??= []).push(r.stats.path)
    if (!missing) return
    const fresh = this.collector.readInFull(last, missing)
    for (const r of rows) {
      const now = fresh.get(r.stats.path)
      const before = last.cgroups.get(r.stats.path)
      if (now && before) rederive(now, before, r.stats)
    }
    for (const p of missing) this.readFull.add(p)
  }

  /**
   * The first screen: every row's sort key, then full figures for the rows that fit on
   * screen (`visiblePaths`, asked once the rows are known), and no rates yet (two readings
   * milliseconds apart would only give noise). Sorted by a rate (CPU, IO), the order cannot
   * use the key yet, so off-screen rows are not read at all: opening hundreds of counter
   * files was a quarter of the time to the first screen. The next refresh opens them; the
   * order by the key follows the one after.
   */
  firstRefresh(visiblePaths: () => Set<string>): void {
    this.refreshes++
    const state = this.state
    const sort = state.sort === 'cpu' || state.sort === 'io' ? 'name' : state.sort
    // The tree was just scanned (Collector.baseExistsIn): neither sample walks it again.
    const s0 = this.collector.sample({detail: new Set(), sort, treeFresh: true})
    state.update(deriveAll(s0, undefined))
    this.onScreen = visiblePaths()
    const s1 = this.collector.sample({detail: this.onScreen, sort, treeFresh: true})
    this.readFull = this.onScreen
    this.stats = deriveAll(s1, undefined)
    this.prev = s1
    this.lastSample = s1
    state.update(this.stats)
    this.remember()
  }

  /**
   * Rows off screen are read only for their sort key: their other figures are read when
   * they come into view (readComingIntoView). Process counts take in every cgroup.procs
   * below a row: they are counted on the second refresh and every 10th after.
   */
  refresh(): void {
    const n = this.refreshes++
    // recycle: only `prev` (the last snapshot) is kept past this refresh, never an older one.
    const cur = this.collector.sample({detail: this.onScreen, sort: this.state.sort, countTasks: n === 1 || n % 10 === 0, recycle: true})
    this.readFull = this.onScreen
    // Last refresh's objects are overwritten: nothing else holds them once the table is rebuilt.
    this.stats = deriveAll(cur, this.prev, this.lastStats, true)
    this.prev = cur
    this.lastSample = cur
    this.state.update(this.stats)
    this.remember()
  }

  private remember(): void {
    const stats = this.stats
    const history = this.history
    // The same objects under the same paths from one refresh to the next: update in place.
    // (Indexed loops and forEach: unoptimised for-of allocates an object per step.)
    for (let i = 0; i < stats.length; i++) this.lastStats.set(stats[i].path, stats[i])
    if (this.lastStats.size > stats.length) this.lastStats = new Map(stats.map((s) => [s.path, s]))
    const lastStats = this.lastStats
    // History only for rows on screen: an off-screen row's figures are carried, not measured.
    this.onScreen.forEach((path) => {
      const s = lastStats.get(path)
      if (!s) return
      let h = history.get(path)
      if (!h) history.set(path, (h = {cpu: [], mem: []}))
      if (s.cpuPercent !== null) h.cpu.push(s.cpuPercent)
      if (s.memoryBytes !== undefined) h.mem.push(s.memoryBytes)
      if (h.cpu.length > HISTORY) h.cpu.shift()
      if (h.mem.length > HISTORY) h.mem.shift()
    })
    history.forEach((_, path) => {
      if (!lastStats.has(path)) history.delete(path)
    })
  }
}
