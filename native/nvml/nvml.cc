// halfwatt's NVML binding: power, energy and state of NVIDIA GPUs.
//
// libnvidia-ml.so.1 is opened with dlopen at run time, never linked, so this addon builds on
// machines without NVIDIA's driver or headers and loads everywhere; there it reports why NVML is
// unavailable instead of failing to load. The few NVML types and prototypes used are declared
// below from NVIDIA's documented API (nvml.h, NVML API Reference); only their ABI matters.
//
// Threading: NVML is thread-safe. Library state here is per process (shared by the main thread
// and the sampler's worker thread, each of which loads this addon) and guarded by a mutex.
// The energy counter read takes about 4 ms on an H100, so the full snapshot is also offered as
// an AsyncWorker for the main thread; the sampler calls the synchronous reads from its worker.
#include <dlfcn.h>
#include <napi.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

// ---- NVML ABI (from nvml.h) ---------------------------------------------------------------------
using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
struct nvmlPciInfo_t {
  char busIdLegacy[16];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];  // NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE
};
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlMemory_t {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};
// Running processes: the unversioned symbols (NVML < 11) fill nvmlProcessInfo_v1_t; the _v2 and
// _v3 symbols fill the 24-byte layout with the MIG instance ids (nvml.h names it
// nvmlProcessInfo_v2_t, and nvmlProcessInfo_t for _v3). Picking the wrong one for a symbol would
// misread every entry after the first, hence a layout per symbol below.
struct nvmlProcessInfo_v1_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};
struct nvmlProcessInfo_v2_t {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
};
static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t is 16 bytes in NVML's ABI");
static_assert(sizeof(nvmlProcessInfo_v2_t) == 24, "nvmlProcessInfo_v2_t is 24 bytes in NVML's ABI");
// usedGpuMemory when NVML cannot tell (WDDM, some containers): NVML_VALUE_NOT_AVAILABLE, (unsigned)-1.
constexpr unsigned long long kValueNotAvailable = ~0ULL;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
constexpr nvmlReturn_t NVML_ERROR_FUNCTION_NOT_FOUND = 13;
constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
constexpr int NVML_TEMPERATURE_GPU = 0;
constexpr int NVML_CLOCK_SM = 1;
constexpr int NVML_CLOCK_MEM = 2;
constexpr unsigned int kNameBuffer = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned int kUuidBuffer = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned int kVersionBuffer = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

// Our own names and explanations for every documented return code: nvmlErrorString is only
// reachable once the library is loaded, and its wording is terse.
struct ErrorInfo {
  int code;
  const char* name;
  const char* meaning;
};
const ErrorInfo kErrors[] = {
    {0, "NVML_SUCCESS", "the operation was successful"},
    {1, "NVML_ERROR_UNINITIALIZED", "NVML was not initialised (nvmlInit not called or failed)"},
    {2, "NVML_ERROR_INVALID_ARGUMENT", "a supplied argument is invalid (e.g. a GPU index past the count)"},
    {3, "NVML_ERROR_NOT_SUPPORTED", "this device or driver does not support the query"},
    {4, "NVML_ERROR_NO_PERMISSION", "the current user lacks permission for this query"},
    {5, "NVML_ERROR_ALREADY_INITIALIZED", "NVML was already initialised (deprecated: init is reference-counted)"},
    {6, "NVML_ERROR_NOT_FOUND", "the queried object was not found"},
    {7, "NVML_ERROR_INSUFFICIENT_SIZE", "an output buffer is too small"},
    {8, "NVML_ERROR_INSUFFICIENT_POWER", "the GPU's external power cables are not properly attached"},
    {9, "NVML_ERROR_DRIVER_NOT_LOADED", "the NVIDIA kernel driver is not loaded"},
    {10, "NVML_ERROR_TIMEOUT", "the query timed out"},
    {11, "NVML_ERROR_IRQ_ISSUE", "the NVIDIA kernel driver detected an interrupt issue with a GPU"},
    {12, "NVML_ERROR_LIBRARY_NOT_FOUND", "the NVML shared library could not be found or loaded"},
    {13, "NVML_ERROR_FUNCTION_NOT_FOUND", "this version of NVML does not implement the function"},
    {14, "NVML_ERROR_CORRUPTED_INFOROM", "the GPU's infoROM is corrupted"},
    {15, "NVML_ERROR_GPU_IS_LOST", "the GPU fell off the bus or became inaccessible"},
    {16, "NVML_ERROR_RESET_REQUIRED", "the GPU needs a reset before it can be used again"},
    {17, "NVML_ERROR_OPERATING_SYSTEM", "the operating system or cgroups blocked access to the GPU"},
    {18, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", "libnvidia-ml and the kernel driver have different versions (reboot or reload the driver)"},
    {19, "NVML_ERROR_IN_USE", "the GPU is in use, so the operation cannot be performed"},
    {20, "NVML_ERROR_MEMORY", "insufficient memory"},
    {21, "NVML_ERROR_NO_DATA", "no data"},
    {22, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED", "not available on this vGPU because ECC is enabled"},
    {23, "NVML_ERROR_INSUFFICIENT_RESOURCES", "ran out of critical resources other than memory"},
    {24, "NVML_ERROR_FREQ_NOT_SUPPORTED", "the requested frequency is not supported"},
    {25, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH", "the structure version passed is invalid or unsupported"},
    {26, "NVML_ERROR_DEPRECATED", "the requested functionality has been deprecated"},
    {27, "NVML_ERROR_NOT_READY", "the system is not ready for the request"},
    {28, "NVML_ERROR_GPU_NOT_FOUND", "no GPU was found"},
    {29, "NVML_ERROR_INVALID_STATE", "the resource is in an invalid state for the request"},
    {999, "NVML_ERROR_UNKNOWN", "an internal driver error occurred"},
};

// ---- the loaded library ------------------------------------------------------------------------
// One of nvmlDevice{Compute,Graphics}RunningProcesses[_v2|_v3]: the newest symbol the library
// has, with the entry layout that symbol fills (1 or 2, see above).
struct ProcessQuery {
  nvmlReturn_t (*fn)(nvmlDevice_t, unsigned int*, void*) = nullptr;
  std::string symbol;
  int layout = 0;
};

struct Api {
  void* lib = nullptr;
  std::string path;
  bool initialised = false;
  nvmlReturn_t (*Init)() = nullptr;
  const char* (*ErrorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*SystemGetDriverVersion)(char*, unsigned int) = nullptr;
  nvmlReturn_t (*SystemGetNVMLVersion)(char*, unsigned int) = nullptr;
  nvmlReturn_t (*DeviceGetCount)(unsigned int*) = nullptr;
  nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*DeviceGetPciInfo)(nvmlDevice_t, nvmlPciInfo_t*) = nullptr;
  nvmlReturn_t (*DeviceGetPowerUsage)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*DeviceGetTotalEnergyConsumption)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*DeviceGetTemperature)(nvmlDevice_t, int, unsigned int*) = nullptr;
  nvmlReturn_t (*DeviceGetClockInfo)(nvmlDevice_t, int, unsigned int*) = nullptr;
  nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*DeviceGetEnforcedPowerLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  ProcessQuery compute, graphics;
};

std::mutex g_mutex;
Api g_api;

std::string ErrorText(nvmlReturn_t code) {
  const char* name = "NVML_ERROR_UNRECOGNISED";
  const char* meaning = "a return code this build of halfwatt does not know";
  for (const auto& e : kErrors)
    if (e.code == code) {
      name = e.name;
      meaning = e.meaning;
    }
  std::string text = std::string(name) + " (" + std::to_string(code) + "): " + meaning;
  if (g_api.ErrorString != nullptr) {
    const char* s = g_api.ErrorString(code);
    if (s != nullptr && *s != '\0') text += " [nvmlErrorString: " + std::string(s) + "]";
  }
  return text;
}

template <typename Fn>
void Resolve(void* lib, Fn& slot, const char* symbol) {
  slot = reinterpret_cast<Fn>(dlsym(lib, symbol));
}

// The newest of base_v3, base_v2, base (each optional: older drivers lack the versioned ones).
void ResolveProcessQuery(void* lib, ProcessQuery& q, const std::string& base) {
  static const std::string kSuffixes[] = {"_v3", "_v2", ""};
  for (const auto& suffix : kSuffixes) {
    std::string name = base + suffix;
    void* fn = dlsym(lib, name.c_str());
    if (fn == nullptr) continue;
    q.fn = reinterpret_cast<nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, void*)>(fn);
    q.symbol = name;
    q.layout = suffix.empty() ? 1 : 2;
    return;
  }
}

// Opens and initialises NVML once per process. Returns "" on success, else why not.
// A failed attempt is not cached, so a later call (e.g. with another path) may succeed.
std::string LoadLocked(const std::string& path) {
  if (g_api.initialised) {
    if (path != g_api.path)
      return "NVML is already loaded in this process from " + g_api.path + ", not " + path;
    return "";
  }
  dlerror();
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    return "cannot open " + path + " (" + (why ? why : "unknown dlopen error") +
           "); is the NVIDIA driver installed?";
  }
  Api api;
  api.lib = lib;
  api.path = path;
  Resolve(lib, api.Init, "nvmlInit_v2");
  Resolve(lib, api.ErrorString, "nvmlErrorString");
  Resolve(lib, api.SystemGetDriverVersion, "nvmlSystemGetDriverVersion");
  Resolve(lib, api.SystemGetNVMLVersion, "nvmlSystemGetNVMLVersion");
  Resolve(lib, api.DeviceGetCount, "nvmlDeviceGetCount_v2");
  Resolve(lib, api.DeviceGetHandleByIndex, "nvmlDeviceGetHandleByIndex_v2");
  Resolve(lib, api.DeviceGetName, "nvmlDeviceGetName");
  Resolve(lib, api.DeviceGetUUID, "nvmlDeviceGetUUID");
  Resolve(lib, api.DeviceGetPciInfo, "nvmlDeviceGetPciInfo_v3");
  Resolve(lib, api.DeviceGetPowerUsage, "nvmlDeviceGetPowerUsage");
  Resolve(lib, api.DeviceGetTotalEnergyConsumption, "nvmlDeviceGetTotalEnergyConsumption");
  Resolve(lib, api.DeviceGetUtilizationRates, "nvmlDeviceGetUtilizationRates");
  Resolve(lib, api.DeviceGetTemperature, "nvmlDeviceGetTemperature");
  Resolve(lib, api.DeviceGetClockInfo, "nvmlDeviceGetClockInfo");
  Resolve(lib, api.DeviceGetMemoryInfo, "nvmlDeviceGetMemoryInfo");
  Resolve(lib, api.DeviceGetEnforcedPowerLimit, "nvmlDeviceGetEnforcedPowerLimit");
  ResolveProcessQuery(lib, api.compute, "nvmlDeviceGetComputeRunningProcesses");
  ResolveProcessQuery(lib, api.graphics, "nvmlDeviceGetGraphicsRunningProcesses");
  if (!api.Init || !api.DeviceGetCount || !api.DeviceGetHandleByIndex) {
    dlclose(lib);
    return path + " lacks nvmlInit_v2/nvmlDeviceGetCount_v2/nvmlDeviceGetHandleByIndex_v2 (driver too old?)";
  }
  g_api = api;  // so ErrorText below can use nvmlErrorString
  nvmlReturn_t rc = api.Init();
  if (rc != NVML_SUCCESS) {
    std::string why = "nvmlInit_v2 failed: " + ErrorText(rc);
    g_api = Api();
    dlclose(lib);
    return why;
  }
  g_api.initialised = true;
  return "";
}

// Every NVML call below holds g_mutex only to read g_api; NVML itself is thread-safe.
nvmlReturn_t Handle(unsigned int index, nvmlDevice_t* out) {
  if (!g_api.initialised) return NVML_ERROR_UNINITIALIZED;
  return g_api.DeviceGetHandleByIndex(index, out);
}

[[noreturn]] void ThrowJs(Napi::Env env, nvmlReturn_t code, const std::string& what) {
  Napi::Error err = Napi::Error::New(env, what + ": " + ErrorText(code));
  err.Set("nvmlReturn", Napi::Number::New(env, code));
  throw err;
}

unsigned int IndexArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a GPU index");
  return info[0].As<Napi::Number>().Uint32Value();
}

// ---- the full snapshot: gathered on any thread, converted on the JS thread ----------------------
struct Field {
  bool ok = false;
  double value = 0;
  nvmlReturn_t code = NVML_SUCCESS;
};

struct Snapshot {
  unsigned int index = 0;
  nvmlReturn_t handleCode = NVML_SUCCESS;
  std::string name, uuid, pciBusId;
  nvmlReturn_t nameCode = NVML_SUCCESS, uuidCode = NVML_SUCCESS, pciCode = NVML_SUCCESS;
  Field powerMilliwatts, energyMillijoules, gpuUtilPercent, memUtilPercent, temperatureC, smClockMHz,
      memClockMHz, memoryUsedBytes, memoryTotalBytes, powerLimitMilliwatts;
};

template <typename T, typename Fn>
void Read(Field& f, Fn&& call) {
  T v{};
  f.code = call(&v);
  f.ok = f.code == NVML_SUCCESS;
  if (f.ok) f.value = static_cast<double>(v);
}

Snapshot TakeSnapshot(unsigned int index) {
  Snapshot s;
  s.index = index;
  nvmlDevice_t dev = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    s.handleCode = Handle(index, &dev);
  }
  if (s.handleCode != NVML_SUCCESS) return s;
  const Api& a = g_api;
  auto missing = [](auto* fn) { return fn == nullptr; };
  char text[kNameBuffer] = {0};
  s.nameCode = missing(a.DeviceGetName) ? NVML_ERROR_FUNCTION_NOT_FOUND : a.DeviceGetName(dev, text, kNameBuffer);
  if (s.nameCode == NVML_SUCCESS) s.name = text;
  char uuid[kUuidBuffer] = {0};
  s.uuidCode = missing(a.DeviceGetUUID) ? NVML_ERROR_FUNCTION_NOT_FOUND : a.DeviceGetUUID(dev, uuid, kUuidBuffer);
  if (s.uuidCode == NVML_SUCCESS) s.uuid = uuid;
  nvmlPciInfo_t pci{};
  s.pciCode = missing(a.DeviceGetPciInfo) ? NVML_ERROR_FUNCTION_NOT_FOUND : a.DeviceGetPciInfo(dev, &pci);
  if (s.pciCode == NVML_SUCCESS) s.pciBusId = pci.busId;

  auto orMissing = [&](auto* fn, auto&& call) -> nvmlReturn_t {
    return fn == nullptr ? NVML_ERROR_FUNCTION_NOT_FOUND : call();
  };
  Read<unsigned int>(s.powerMilliwatts, [&](unsigned int* v) {
    return orMissing(a.DeviceGetPowerUsage, [&] { return a.DeviceGetPowerUsage(dev, v); });
  });
  Read<unsigned long long>(s.energyMillijoules, [&](unsigned long long* v) {
    return orMissing(a.DeviceGetTotalEnergyConsumption, [&] { return a.DeviceGetTotalEnergyConsumption(dev, v); });
  });
  nvmlUtilization_t util{};
  nvmlReturn_t utilCode =
      orMissing(a.DeviceGetUtilizationRates, [&] { return a.DeviceGetUtilizationRates(dev, &util); });
  for (Field* f : {&s.gpuUtilPercent, &s.memUtilPercent}) {
    f->code = utilCode;
    f->ok = utilCode == NVML_SUCCESS;
  }
  s.gpuUtilPercent.value = util.gpu;
  s.memUtilPercent.value = util.memory;
  Read<unsigned int>(s.temperatureC, [&](unsigned int* v) {
    return orMissing(a.DeviceGetTemperature, [&] { return a.DeviceGetTemperature(dev, NVML_TEMPERATURE_GPU, v); });
  });
  Read<unsigned int>(s.smClockMHz, [&](unsigned int* v) {
    return orMissing(a.DeviceGetClockInfo, [&] { return a.DeviceGetClockInfo(dev, NVML_CLOCK_SM, v); });
  });
  Read<unsigned int>(s.memClockMHz, [&](unsigned int* v) {
    return orMissing(a.DeviceGetClockInfo, [&] { return a.DeviceGetClockInfo(dev, NVML_CLOCK_MEM, v); });
  });
  nvmlMemory_t mem{};
  nvmlReturn_t memCode = orMissing(a.DeviceGetMemoryInfo, [&] { return a.DeviceGetMemoryInfo(dev, &mem); });
  for (Field* f : {&s.memoryUsedBytes, &s.memoryTotalBytes}) {
    f->code = memCode;
    f->ok = memCode == NVML_SUCCESS;
  }
  s.memoryUsedBytes.value = static_cast<double>(mem.used);
  s.memoryTotalBytes.value = static_cast<double>(mem.total);
  Read<unsigned int>(s.powerLimitMilliwatts, [&](unsigned int* v) {
    return orMissing(a.DeviceGetEnforcedPowerLimit, [&] { return a.DeviceGetEnforcedPowerLimit(dev, v); });
  });
  return s;
}

// Fields that failed are left out of the object and explained in `errors`, so one unsupported
// query (e.g. the energy counter on a pre-Volta GPU) does not hide the rest.
Napi::Object SnapshotToJs(Napi::Env env, const Snapshot& s) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Object errors = Napi::Object::New(env);
  o.Set("index", s.index);
  if (s.handleCode != NVML_SUCCESS) {
    errors.Set("device", ErrorText(s.handleCode));
    o.Set("errors", errors);
    return o;
  }
  auto text = [&](const char* key, nvmlReturn_t code, const std::string& v) {
    if (code == NVML_SUCCESS)
      o.Set(key, v);
    else
      errors.Set(key, ErrorText(code));
  };
  text("name", s.nameCode, s.name);
  text("uuid", s.uuidCode, s.uuid);
  text("pciBusId", s.pciCode, s.pciBusId);
  auto num = [&](const char* key, const Field& f) {
    if (f.ok)
      o.Set(key, f.value);
    else
      errors.Set(key, ErrorText(f.code));
  };
  num("powerMilliwatts", s.powerMilliwatts);
  num("energyMillijoules", s.energyMillijoules);
  num("gpuUtilPercent", s.gpuUtilPercent);
  num("memUtilPercent", s.memUtilPercent);
  num("temperatureC", s.temperatureC);
  num("smClockMHz", s.smClockMHz);
  num("memClockMHz", s.memClockMHz);
  num("memoryUsedBytes", s.memoryUsedBytes);
  num("memoryTotalBytes", s.memoryTotalBytes);
  num("powerLimitMilliwatts", s.powerLimitMilliwatts);
  o.Set("errors", errors);
  return o;
}

class SnapshotWorker : public Napi::AsyncWorker {
 public:
  SnapshotWorker(Napi::Env env, unsigned int index)
      : Napi::AsyncWorker(env), index_(index), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { snapshot_ = TakeSnapshot(index_); }
  void OnOK() override { deferred_.Resolve(SnapshotToJs(Env(), snapshot_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  unsigned int index_;
  Snapshot snapshot_;
  Napi::Promise::Deferred deferred_;
};

void RequireLoaded(Napi::Env env) {
  if (!g_api.initialised) ThrowJs(env, NVML_ERROR_UNINITIALIZED, "NVML is not loaded (call load() first)");
}

// ---- exported functions ----------------------------------------------------------------------

// load(path = "libnvidia-ml.so.1") -> { ok, reason?, library, driverVersion?, nvmlVersion?, deviceCount? }
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = "libnvidia-ml.so.1";
  if (info.Length() > 0 && info[0].IsString()) path = info[0].As<Napi::String>().Utf8Value();
  std::lock_guard<std::mutex> lock(g_mutex);
  std::string why = LoadLocked(path);
  Napi::Object r = Napi::Object::New(env);
  r.Set("library", path);
  r.Set("ok", why.empty());
  if (!why.empty()) {
    r.Set("reason", why);
    return r;
  }
  char version[kVersionBuffer] = {0};
  if (g_api.SystemGetDriverVersion && g_api.SystemGetDriverVersion(version, kVersionBuffer) == NVML_SUCCESS)
    r.Set("driverVersion", std::string(version));
  char nvml[kVersionBuffer] = {0};
  if (g_api.SystemGetNVMLVersion && g_api.SystemGetNVMLVersion(nvml, kVersionBuffer) == NVML_SUCCESS)
    r.Set("nvmlVersion", std::string(nvml));
  unsigned int count = 0;
  nvmlReturn_t rc = g_api.DeviceGetCount(&count);
  if (rc != NVML_SUCCESS) {
    r.Set("ok", false);
    r.Set("reason", "nvmlDeviceGetCount_v2 failed: " + ErrorText(rc));
    return r;
  }
  r.Set("deviceCount", count);
  return r;
}

// errorText(code) -> "NVML_ERROR_NOT_SUPPORTED (3): ..." (works without the library)
Napi::Value ErrorTextJs(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a return code");
  std::lock_guard<std::mutex> lock(g_mutex);
  return Napi::String::New(info.Env(), ErrorText(info[0].As<Napi::Number>().Int32Value()));
}

// The handle of GPU `index`, with NVML loaded (else a JS exception), under the library lock.
nvmlDevice_t LoadedHandle(Napi::Env env, unsigned int index) {
  nvmlDevice_t dev = nullptr;
  nvmlReturn_t rc;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    RequireLoaded(env);
    rc = Handle(index, &dev);
  }
  if (rc != NVML_SUCCESS) ThrowJs(env, rc, "GPU " + std::to_string(index));
  return dev;
}

// powerMilliwatts(index): nvmlDeviceGetPowerUsage. On Ampere and newer (except GA100) NVIDIA
// documents this as the average over the last second; on older GPUs it is instantaneous.
Napi::Value PowerMilliwatts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned int index = IndexArg(info);
  nvmlDevice_t dev = LoadedHandle(env, index);
  nvmlReturn_t rc;
  if (!g_api.DeviceGetPowerUsage) ThrowJs(env, NVML_ERROR_FUNCTION_NOT_FOUND, "nvmlDeviceGetPowerUsage");
  unsigned int mw = 0;
  rc = g_api.DeviceGetPowerUsage(dev, &mw);
  if (rc != NVML_SUCCESS) ThrowJs(env, rc, "nvmlDeviceGetPowerUsage(GPU " + std::to_string(index) + ")");
  return Napi::Number::New(env, mw);
}

// energyMillijoules(index): nvmlDeviceGetTotalEnergyConsumption, mJ since the driver loaded
// (Volta and newer). A double holds it exactly up to 2^53 mJ, about 285 years at 1 kW.
Napi::Value EnergyMillijoules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned int index = IndexArg(info);
  nvmlDevice_t dev = LoadedHandle(env, index);
  nvmlReturn_t rc;
  if (!g_api.DeviceGetTotalEnergyConsumption)
    ThrowJs(env, NVML_ERROR_FUNCTION_NOT_FOUND, "nvmlDeviceGetTotalEnergyConsumption");
  unsigned long long mj = 0;
  rc = g_api.DeviceGetTotalEnergyConsumption(dev, &mj);
  if (rc != NVML_SUCCESS)
    ThrowJs(env, rc, "nvmlDeviceGetTotalEnergyConsumption(GPU " + std::to_string(index) + ")");
  return Napi::Number::New(env, static_cast<double>(mj));
}

// ---- running processes --------------------------------------------------------------------------
struct RunningProcess {
  unsigned int pid;
  unsigned long long usedGpuMemory;
};

// One process list of `dev` through `q`, into `out`. NVML answers NVML_ERROR_INSUFFICIENT_SIZE
// with the count it needs; the buffer grows to that plus a margin (processes may start between
// two calls) and the call is retried a few times.
nvmlReturn_t QueryProcesses(const ProcessQuery& q, nvmlDevice_t dev, std::vector<RunningProcess>& out) {
  if (q.fn == nullptr) return NVML_ERROR_FUNCTION_NOT_FOUND;
  const size_t entry = q.layout == 1 ? sizeof(nvmlProcessInfo_v1_t) : sizeof(nvmlProcessInfo_v2_t);
  unsigned int capacity = 32;
  for (int attempt = 0; attempt < 6; ++attempt) {
    std::vector<unsigned char> buffer(static_cast<size_t>(capacity) * entry, 0);
    unsigned int count = capacity;
    nvmlReturn_t rc = q.fn(dev, &count, buffer.data());
    if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
      capacity = (count > capacity ? count : capacity * 2) + 16;
      continue;
    }
    if (rc != NVML_SUCCESS) return rc;
    if (count > capacity) count = capacity;  // never read past the buffer, whatever NVML says
    for (unsigned int i = 0; i < count; ++i) {
      RunningProcess p{};
      if (q.layout == 1) {
        nvmlProcessInfo_v1_t e;
        std::memcpy(&e, buffer.data() + i * entry, sizeof e);
        p = {e.pid, e.usedGpuMemory};
      } else {
        nvmlProcessInfo_v2_t e;
        std::memcpy(&e, buffer.data() + i * entry, sizeof e);
        p = {e.pid, e.usedGpuMemory};
      }
      out.push_back(p);
    }
    return NVML_SUCCESS;
  }
  return NVML_ERROR_INSUFFICIENT_SIZE;
}

// runningProcesses(index) -> [{ pid, usedGpuMemoryBytes (null where NVML cannot tell), kind }]
// kind "compute" (CUDA contexts) or "graphics" (Vulkan/OpenGL: Dawn's work is usually here); a
// process using both appears once per kind. A list this GPU or driver does not offer
// (NOT_SUPPORTED, or no such symbol) is skipped as long as the other one answered; any other
// failure throws, naming the symbol.
Napi::Value RunningProcessesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned int index = IndexArg(info);
  nvmlDevice_t dev = LoadedHandle(env, index);
  struct Kind {
    const ProcessQuery& query;
    const char* name;
    const char* base;
    std::vector<RunningProcess> found;
    nvmlReturn_t rc = NVML_SUCCESS;
  };
  Kind kinds[] = {{g_api.compute, "compute", "nvmlDeviceGetComputeRunningProcesses", {}},
                  {g_api.graphics, "graphics", "nvmlDeviceGetGraphicsRunningProcesses", {}}};
  for (Kind& k : kinds) k.rc = QueryProcesses(k.query, dev, k.found);
  auto label = [&](const Kind& k) {
    return (k.query.symbol.empty() ? std::string(k.base) : k.query.symbol) + "(GPU " + std::to_string(index) + ")";
  };
  auto skippable = [](nvmlReturn_t rc) {
    return rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_FUNCTION_NOT_FOUND;
  };
  if (kinds[0].rc != NVML_SUCCESS && kinds[1].rc != NVML_SUCCESS)
    ThrowJs(env, kinds[1].rc, label(kinds[0]) + ": " + ErrorText(kinds[0].rc) + "; " + label(kinds[1]));
  for (const Kind& k : kinds)
    if (k.rc != NVML_SUCCESS && !skippable(k.rc)) ThrowJs(env, k.rc, label(k));
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const Kind& k : kinds)
    for (const RunningProcess& p : k.found) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("pid", p.pid);
      o.Set("usedGpuMemoryBytes", p.usedGpuMemory == kValueNotAvailable
                                      ? env.Null()
                                      : Napi::Number::New(env, static_cast<double>(p.usedGpuMemory)));
      o.Set("kind", k.name);
      out.Set(n++, o);
    }
  return out;
}

Napi::Value SnapshotSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned int index = IndexArg(info);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    RequireLoaded(env);
  }
  return SnapshotToJs(env, TakeSnapshot(index));
}

Napi::Value SnapshotAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned int index = IndexArg(info);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    RequireLoaded(env);
  }
  auto* worker = new SnapshotWorker(env, index);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("errorText", Napi::Function::New(env, ErrorTextJs));
  exports.Set("powerMilliwatts", Napi::Function::New(env, PowerMilliwatts));
  exports.Set("energyMillijoules", Napi::Function::New(env, EnergyMillijoules));
  exports.Set("snapshot", Napi::Function::New(env, SnapshotSync));
  exports.Set("snapshotAsync", Napi::Function::New(env, SnapshotAsync));
  exports.Set("runningProcesses", Napi::Function::New(env, RunningProcessesJs));
  return exports;
}

}  // namespace

NODE_API_MODULE(halfwatt_nvml, Init)
