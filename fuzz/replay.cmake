# Runs each replay program on its corpus folder (REPLAYS: PROGRAM=FOLDER|PROGRAM=FOLDER|...) and fails
# at the first one that does not exit with status 0 (a crash, a sanitizer abort, an empty or
# missing corpus).
if(NOT REPLAYS)
  message(FATAL_ERROR "fuzz replay: no programs given (-DREPLAYS=PROGRAM=FOLDER|...)")
endif()
string(REPLACE "|" ";" pairs "${REPLAYS}")
foreach(pair ${pairs})
  string(FIND "${pair}" "=" eq REVERSE)
  string(SUBSTRING "${pair}" 0 ${eq} program)
  math(EXPR folder_start "${eq} + 1")
  string(SUBSTRING "${pair}" ${folder_start} -1 folder)
  execute_process(COMMAND "${program}" "${folder}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "fuzz replay: ${program} ${folder} failed (${status})")
  endif()
endforeach()
