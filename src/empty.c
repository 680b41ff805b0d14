/* Stands in for a layer that has no module yet (see CMakeLists.txt). */
typedef int memtop_empty_translation_unit;
