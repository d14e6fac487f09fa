# ctest h2_engine_bench_smoke: runs the engine benchmarks for a moment and
# checks that each one ran without error and reported its counters. Never
# checks a speed. Usage: cmake -DBENCH=<h2_engine_bench> -DOUT=<json> -P this
cmake_minimum_required(VERSION 3.25)

foreach(var BENCH OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "h2_engine_bench_smoke: -D${var}= missing")
  endif()
endforeach()

file(REMOVE "${OUT}")
execute_process(
  COMMAND "${BENCH}" --benchmark_min_time=0.01 --benchmark_out_format=json
          "--benchmark_out=${OUT}"
  RESULT_VARIABLE status
  TIMEOUT 100)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "h2_engine_bench exited with ${status}")
endif()
if(NOT EXISTS "${OUT}")
  message(FATAL_ERROR "h2_engine_bench wrote no ${OUT}")
endif()

file(READ "${OUT}" json)
string(JSON count LENGTH "${json}" benchmarks)
set(expected BM_RoundTrip/0 BM_RoundTrip/1024 BM_RoundTrip/16384
             BM_RoundTripBatch/0/64 BM_RoundTripBatch/1024/64 BM_RoundTripBatch/16384/64)
set(seen "")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" benchmarks ${i} name)
  string(JSON failed ERROR_VARIABLE no_error GET "${json}" benchmarks ${i} error_occurred)
  if(failed)
    string(JSON why GET "${json}" benchmarks ${i} error_message)
    message(FATAL_ERROR "${name} failed: ${why}")
  endif()
  foreach(counter items_per_second allocs_per_rt alloc_bytes_per_rt)
    string(JSON value ERROR_VARIABLE missing GET "${json}" benchmarks ${i} ${counter})
    if(missing)
      message(FATAL_ERROR "${name}: counter ${counter} missing")
    endif()
  endforeach()
  string(JSON rate GET "${json}" benchmarks ${i} items_per_second)
  if(NOT rate GREATER 0)
    message(FATAL_ERROR "${name}: no round trips measured (items_per_second ${rate})")
  endif()
  list(APPEND seen "${name}")
endforeach()
foreach(name IN LISTS expected)
  if(NOT name IN_LIST seen)
    message(FATAL_ERROR "benchmark ${name} did not run (ran: ${seen})")
  endif()
endforeach()
message(STATUS "h2_engine_bench_smoke: ${count} benchmarks ran and reported their counters")
