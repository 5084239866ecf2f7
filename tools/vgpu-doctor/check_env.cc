// Environment and install facts: rules/environment.toml and rules/install.toml against the service's
// environment and this machine (core/rule_eval.h).
#include "checks.h"

namespace vgpu::doctor {

void check_env(const Install& in, Report& r) {
  for (Finding& f : run_rules(in.rules, eval_context(in), in.era)) r.findings.push_back(std::move(f));
  for (const std::string& p : in.env.problems)
    r.findings.push_back({"env.unit_syntax", Severity::warning, in.env_origin, p, {}, ""});
  for (const EnvVar& v : in.env.vars)
    if (v.name.rfind("LD_", 0) == 0 || v.name.rfind("OLLAMA_", 0) == 0 || v.name.rfind("CUDA_", 0) == 0 ||
        v.name.rfind("GGML_", 0) == 0 || v.name.rfind("VGPU_", 0) == 0 || v.name == "PATH")
      r.facts["environment"][v.name] = v.value + "  [" + v.origin + "]";
}

}  // namespace vgpu::doctor
