# add_qfuse_library(name SOURCES... [DEPENDS ...] [MLIR_LIBS ...] [LINK_LIBS ...])
#
# A qfuse library: built with add_mlir_library, linked against the MLIR
# libraries it names (through libMLIR.so, Debian's shared MLIR, so that the
# same objects can be loaded into upstream mlir-opt as a plugin), and added to
# the QFuseTargets export set for find_package(QFuse).
function(add_qfuse_library name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;MLIR_LIBS;LINK_LIBS" ${ARGN})
  add_mlir_library(${name} ${ARG_UNPARSED_ARGUMENTS}
    DISABLE_INSTALL
    EXCLUDE_FROM_LIBMLIR
    DEPENDS ${ARG_DEPENDS}
    LINK_LIBS PUBLIC ${ARG_LINK_LIBS})
  mlir_target_link_libraries(${name} PUBLIC ${ARG_MLIR_LIBS})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${QFUSE_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${QFUSE_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:include>)
  # MLIR's imported targets carry no include directories; consumers of the
  # installed package need them for qfuse's headers.
  target_include_directories(${name} SYSTEM PUBLIC
    ${MLIR_INCLUDE_DIRS} ${LLVM_INCLUDE_DIRS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  install(TARGETS ${name} EXPORT QFuseTargets
    ARCHIVE DESTINATION lib LIBRARY DESTINATION lib)
  set_property(GLOBAL APPEND PROPERTY QFUSE_EXPORTED_LIBS ${name})
endfunction()
