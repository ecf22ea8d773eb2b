// Compatibility shim for systems whose libstdc++ predates GCC 13 (e.g. Debian 12).
//
// Code compiled with GCC 13 headers no longer gets a per-file static std::ios_base::Init
// from <iostream>; instead it references std::ios_base_library_init() (GLIBCXX_3.4.32) so
// that libstdc++ itself initialises the standard streams. TorchSharp's libLibTorchSharp.so
// was built that way, so GCC 12's libstdc++ (up to GLIBCXX_3.4.30) refuses to load it.
// Repair-LibTorchSharp.ps1 makes the copied library take the symbol from here instead.
//
// The reference is only a link-time anchor and is never called, so the streams are
// initialised when this library is loaded: as a dependency of libLibTorchSharp.so its
// constructors run before that library's.

#include <ios>

namespace {
std::ios_base::Init streams_initialised_on_load;
}

namespace std {
__attribute__((visibility("default"))) void ios_base_library_init()
{
    static ios_base::Init init;
}
}
