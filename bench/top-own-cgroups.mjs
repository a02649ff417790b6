// Prints this process's own cgroup directory in every mounted hierarchy, one per line
// (bench/top.sh makes its cgroups below them).
import {readCgroupLayout} from '../dist/src/cgroup/hierarchy.js'
import {locateMemberships, readProcCgroup} from '../dist/src/cgroup/membership.js'

for (const m of locateMemberships(readProcCgroup('self') ?? [], readCgroupLayout())) {
  if (m.directory) console.log(m.directory)
}
