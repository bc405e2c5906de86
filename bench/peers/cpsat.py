"""The planner's instance solved by OR-Tools CP-SAT (a peer for `scripts/bench planner`).

    python cpsat.py INSTANCE --out PLAN [--time-limit SECONDS] [--workers N]

The model is common.py's: one Boolean per candidate placement, at most one per team, slot,
dose and bus rows, the format's objective maximised. The last line printed is one JSON object:
{"solver": "cp-sat", "status": …, "objective": …, "bound": …, "build_seconds": …, "seconds": …}.
"""

import json
import time

from ortools.sat.python import cp_model

import common


def main():
    begun = common.start("cp-sat", __doc__)
    if begun is None:
        return
    args, inst, opts, started = begun
    model = cp_model.CpModel()
    x = [model.new_bool_var("") for _ in opts]
    for entries, cap in common.rows(inst, opts):
        model.add(cp_model.LinearExpr.weighted_sum([x[i] for i, _ in entries], [c for _, c in entries]) <= cap)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, [o.value for o in opts]))
    built = time.monotonic() - started
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(1.0, args.time_limit - built)
    solver.parameters.num_workers = args.workers
    status = solver.solve(model)
    summary = {"solver": "cp-sat", "status": solver.status_name(status), "options": len(opts),
               "build_seconds": round(built, 2)}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [i for i, v in enumerate(x) if solver.boolean_value(v)]
        common.write_plan(inst, opts, chosen, args.out, "not placed by CP-SAT")
        summary["objective"] = int(round(solver.objective_value))
        summary["bound"] = int(solver.best_objective_bound)
    summary["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
