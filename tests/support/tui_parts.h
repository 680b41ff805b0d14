/*
 * tui_parts.h - the screen's parts, for unit tests: the list widget and
 * the keys table, the drill-down's rows, sparklines, strips and text
 * fitting, and the screen stack over the app's state (app.h), each
 * module's own header.  They are
 * private to src/tui/ (no other layer may include them); the test build
 * puts src/tui on the unit tests' include path, and tests reach them
 * through this one header, never by a path into src/.
 */
#ifndef MEMTOP_TESTS_TUI_PARTS_H
#define MEMTOP_TESTS_TUI_PARTS_H

#include "actions.h"
#include "app.h"
#include "detail.h"
#include "drill.h"
#include "drilldown.h"
#include "eventlog.h"
#include "footer.h"
#include "header.h"
#include "heapview.h"
#include "help.h"
#include "keys.h"
#include "lines.h"
#include "list.h"
#include "picker.h"
#include "scanbar.h"
#include "screen.h"
#include "spark.h"
#include "strip.h"
#include "text.h"
#include "timetravel.h"
#include "traces.h"

#endif
