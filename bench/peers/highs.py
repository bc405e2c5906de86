"""The planner's instance solved by HiGHS as a MIP (a peer for `scripts/bench planner`).

    python highs.py INSTANCE --out PLAN [--time-limit SECONDS] [--workers N]

The model is common.py's: one binary per candidate placement, at most one per team, slot,
dose and bus rows, the format's objective maximised. The last line printed is one JSON object:
{"solver": "highs", "status": …, "objective": …, "bound": …, "build_seconds": …, "seconds": …}.
"""

import json
import time

import highspy
import numpy as np

import common


def main():
    begun = common.start("highs", __doc__)
    if begun is None:
        return
    args, inst, opts, started = begun
    n = len(opts)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addCols(n, np.array([o.value for o in opts], dtype=np.float64),
              np.zeros(n), np.ones(n), 0, np.array([], dtype=np.int32),
              np.array([], dtype=np.int32), np.array([], dtype=np.float64))
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                            np.array([highspy.HighsVarType.kInteger] * n))
    rows = common.rows(inst, opts)
    starts, index, value, upper = [], [], [], []
    for entries, cap in rows:
        starts.append(len(index))
        index.extend(i for i, _ in entries)
        value.extend(c for _, c in entries)
        upper.append(cap)
    m = len(rows)
    h.addRows(m, np.full(m, -highspy.kHighsInf), np.array(upper, dtype=np.float64), len(index),
              np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32),
              np.array(value, dtype=np.float64))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    built = time.monotonic() - started
    h.setOptionValue("time_limit", max(1.0, args.time_limit - built))
    h.setOptionValue("threads", args.workers)
    h.run()
    info = h.getInfo()
    status = h.modelStatusToString(h.getModelStatus())
    summary = {"solver": "highs", "status": status, "options": n, "rows": m,
               "build_seconds": round(built, 2)}
    if info.primal_solution_status == 2:  # feasible
        col = h.getSolution().col_value
        chosen = [i for i in range(n) if col[i] > 0.5]
        common.write_plan(inst, opts, chosen, args.out, "not placed by HiGHS")
        summary["objective"] = int(sum(opts[i].value for i in chosen))
        summary["bound"] = int(info.mip_dual_bound)
    summary["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
