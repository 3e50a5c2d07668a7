// The report's tables built from a Summary (accuracy with published rows beside it, cost),
// the overview sentence and the problem lines shared by every output format.
#pragma once

#include <string>
#include <vector>

#include "framework/report/load.h"
#include "framework/report/summary.h"
#include "framework/report/table.h"

namespace sct::report {

enum class Accuracy { kBest, kLast };

// The label of an accuracy as the units define it (Summary::best_label / last_label):
// "best (test-selected)", "test (val200-selected)", "last", "last (val200)".
const std::string& accuracy_label(const Summary& s, Accuracy which);

// What the accuracies of the run mean, one paragraph for every format: the protocol as the
// units' labels say it was run, then how seeds and means combine.
std::string protocol_note(const Summary& s);

// Rows: tasks, then group means and the overall mean. Columns: task, group (when any task
// has one), one per configuration, then the published rows when `with_reference` and some
// task is a VTAB task. `short_headers` uses "sct best*" style headers (the text summary).
Table accuracy_table(const Summary& s, Accuracy which, bool with_reference, bool short_headers = false);
// Per configuration: trainable parameters without the head, and time per seed.
Table cost_table(const Summary& s);
// "The published trainable parameters (head excluded): Full fine-tuning 85.8M, ..."
std::string reference_params_line();

// "12 finished units: 4 tasks × 2 configurations (sct, linear) × seeds 0, 1; 1 failed; ..."
std::string run_overview(const Run& run, const Summary& s);
// One line per failed unit and per problem: "<file>: <what>".
std::vector<std::string> problem_lines(const Run& run);

}  // namespace sct::report
