// Recipe loading: TOML parse -> extends chain -> deep merge -> --set overrides -> strict
// binding onto the typed structs. A map from dotted key to "file:line" survives the merge so
// every error can point at the line that set the offending value.
#include "framework/core/recipe.h"

#include <toml++/toml.h>

#include <algorithm>
#include <any>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include <fmt/format.h>

#include "framework/core/error.h"
#include "framework/core/strings.h"
#include "framework/core/recipe_fields.h"

namespace sct {
namespace fs = std::filesystem;
namespace {

using Locations = std::map<std::string, std::string>;  // dotted key -> "file:line"

std::string where(const toml::node& node, const std::string& file) {
  const auto& src = node.source();
  return src.begin.line ? fmt::format("{}:{}", file, src.begin.line) : file;
}

void record_locations(const toml::table& table, const std::string& prefix, const std::string& file,
                      Locations& locs) {
  for (const auto& [key, node] : table) {
    std::string dotted = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    locs[dotted] = where(node, file);
    if (const auto* sub = node.as_table()) record_locations(*sub, dotted, file, locs);
  }
}

// Tables merge key by key; arrays and scalars from `top` replace those in `base`.
void deep_merge(toml::table& base, const toml::table& top) {
  for (const auto& [key, node] : top) {
    auto* existing = base.get(key);
    if (existing && existing->is_table() && node.is_table()) {
      deep_merge(*existing->as_table(), *node.as_table());
    } else {
      base.insert_or_assign(key, node);
    }
  }
}

toml::table parse_text(const std::string& text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}: malformed TOML: {}", name, e.source().begin.line,
                                 e.description()));
  }
}

// Loads `path` and everything it extends; `stack` holds the chain for cycle reports.
toml::table load_chain(const std::string& path, const std::string& text, Locations& locs,
                       std::vector<std::string>& stack) {
  toml::table table = parse_text(text, path);
  Locations own;
  record_locations(table, "", path, own);
  toml::table merged;
  if (auto* ext = table.get("extends")) {
    const std::string loc = where(*ext, path);
    if (!ext->is_string())
      throw InputError(fmt::format("{}: key 'extends' expects a string (a path relative to this file)", loc));
    fs::path base = fs::path(path).parent_path() / ext->as_string()->get();
    base = base.lexically_normal();
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(base, ec);
    for (const auto& s : stack)
      if (s == canon.string())
        throw InputError(fmt::format("{}: key 'extends': cycle: {} -> {}", loc, join(stack, " -> "),
                                     canon.string()));
    if (!fs::is_regular_file(base))
      throw InputError(fmt::format("{}: key 'extends': file '{}' not found", loc, base.string()));
    std::ifstream in(base);
    std::stringstream ss;
    ss << in.rdbuf();
    stack.push_back(canon.string());
    merged = load_chain(base.string(), ss.str(), locs, stack);
    stack.pop_back();
    table.erase("extends");
  }
  deep_merge(merged, table);
  for (auto& [k, v] : own) locs[k] = v;
  return merged;
}

void apply_override(toml::table& table, const std::string& item, Locations& locs) {
  const std::string label = "--set " + item;
  auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("{}: expected key=value (e.g. --set train.lr=0.01)", label));
  const std::string key = item.substr(0, eq);
  toml::table parsed;
  try {
    parsed = toml::parse(key + " = " + item.substr(eq + 1), label);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}: key '{}': value is not a TOML value ({}); strings need quotes, "
                                 "e.g. --set name='\"demo\"'",
                                 label, key, e.description()));
  }
  Locations own;
  record_locations(parsed, "", label, own);
  for (auto& [k, v] : own) v = label, locs[k] = v;
  deep_merge(table, parsed);
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

// Binds a merged table onto the structs, consuming keys; anything left over is unknown.
class Reader {
 public:
  Reader(const toml::table& root, const Locations& locs) : locs_(locs) { push(&root, ""); }

  template <typename T, typename Check = std::nullptr_t>
  void field(const Key& key, T& out, Check check = nullptr) {
    const toml::table* t = frames_.back().table;
    if (!t) return;
    const toml::node* node = t->get(key.name);
    if (!node) return;
    frames_.back().used.insert(key.name);
    const std::string dotted = path(key.name);
    read(*node, dotted, out);
    if constexpr (!std::is_same_v<Check, std::nullptr_t>) {
      std::string problem = check(out);
      if (!problem.empty()) fail(dotted, problem);
    }
  }

  template <typename Fn>
  void section(const Key& key, Fn&& body) {
    const toml::table* t = frames_.back().table;
    const toml::table* sub = nullptr;
    if (t) {
      if (const toml::node* node = t->get(key.name)) {
        frames_.back().used.insert(key.name);
        if (!node->is_table())
          fail(path(key.name), fmt::format("expects a table, found {}", type_name(*node)));
        sub = node->as_table();
      }
    }
    push(sub, path(key.name));
    body();
    finish_frame();
    frames_.pop_back();
  }

  void finish() { finish_frame(); }

 private:
  struct Frame {
    const toml::table* table;
    std::string prefix;
    std::set<std::string> used;
  };

  void push(const toml::table* t, std::string prefix) { frames_.push_back({t, std::move(prefix), {}}); }
  std::string path(const char* key) const {
    const auto& p = frames_.back().prefix;
    return p.empty() ? key : p + "." + key;
  }
  std::string loc(const std::string& dotted) const {
    auto it = locs_.find(dotted);
    return it == locs_.end() ? std::string("recipe") : it->second;
  }
  [[noreturn]] void fail(const std::string& dotted, const std::string& problem) const {
    throw InputError(fmt::format("{}: key '{}' {}", loc(dotted), dotted, problem));
  }

  void finish_frame() {
    const Frame& f = frames_.back();
    if (!f.table) return;
    for (const auto& [k, node] : *f.table) {
      std::string key(k.str());
      if (f.used.count(key)) continue;
      std::string dotted = f.prefix.empty() ? key : f.prefix + "." + key;
      std::vector<std::string> siblings, elsewhere;
      for (const auto& full : recipe_keys()) {
        auto dot = full.rfind('.');
        std::string parent = dot == std::string::npos ? "" : full.substr(0, dot);
        std::string leaf = dot == std::string::npos ? full : full.substr(dot + 1);
        if (parent == f.prefix) siblings.push_back(leaf);
        else if (leaf == key) elsewhere.push_back(full);
        // sections themselves are candidates at the top level
        if (f.prefix.empty() && dot != std::string::npos) siblings.push_back(full.substr(0, full.find('.')));
      }
      std::string hint;
      // The same name in another section beats a near miss in this one.
      std::string close = closest_match(key, siblings);
      if (!elsewhere.empty())
        hint = fmt::format(" (did you mean '{}'?)", elsewhere.front());
      else if (!close.empty())
        hint = fmt::format(" (did you mean '{}'?)", f.prefix.empty() ? close : f.prefix + "." + close);
      throw InputError(fmt::format("{}: unknown key '{}'{}", loc(dotted), dotted, hint));
    }
  }

  void read(const toml::node& n, const std::string& k, int64_t& out) {
    if (!n.is_integer()) fail(k, fmt::format("expects an integer, found {}", type_name(n)));
    out = n.as_integer()->get();
  }
  void read(const toml::node& n, const std::string& k, double& out) {
    if (n.is_integer()) out = static_cast<double>(n.as_integer()->get());
    else if (n.is_floating_point()) out = n.as_floating_point()->get();
    else fail(k, fmt::format("expects a number, found {}", type_name(n)));
  }
  void read(const toml::node& n, const std::string& k, bool& out) {
    if (!n.is_boolean()) fail(k, fmt::format("expects true or false, found {}", type_name(n)));
    out = n.as_boolean()->get();
  }
  void read(const toml::node& n, const std::string& k, std::string& out) {
    if (!n.is_string()) fail(k, fmt::format("expects a string, found {}", type_name(n)));
    out = n.as_string()->get();
  }
  void read(const toml::node& n, const std::string& k, std::vector<double>& out) {
    if (!n.is_array()) fail(k, fmt::format("expects an array of numbers, found {}", type_name(n)));
    out.clear();
    for (const auto& e : *n.as_array()) {
      double v = 0;
      if (!e.is_number()) fail(k, fmt::format("expects an array of numbers, found an element that is {}", type_name(e)));
      read(e, k, v);
      out.push_back(v);
    }
  }
  void read(const toml::node& n, const std::string& k, std::vector<std::string>& out) {
    if (!n.is_array()) fail(k, fmt::format("expects an array of strings, found {}", type_name(n)));
    out.clear();
    for (const auto& e : *n.as_array()) {
      if (!e.is_string()) fail(k, fmt::format("expects an array of strings, found an element that is {}", type_name(e)));
      out.push_back(e.as_string()->get());
    }
  }

  void read(const toml::node& n, const std::string& k, std::vector<int64_t>& out) {
    if (!n.is_array()) fail(k, fmt::format("expects an array of integers, found {}", type_name(n)));
    out.clear();
    for (const auto& e : *n.as_array()) {
      if (!e.is_integer()) fail(k, fmt::format("expects an array of integers, found an element that is {}", type_name(e)));
      out.push_back(e.as_integer()->get());
    }
  }
  void read(const toml::node& n, const std::string& k, std::map<std::string, std::vector<std::string>>& out) {
    if (!n.is_table()) fail(k, fmt::format("expects a table of string arrays, found {}", type_name(n)));
    out.clear();
    for (const auto& [name, value] : *n.as_table()) {
      std::string sub = k + "." + std::string(name.str());
      read(value, sub, out[std::string(name.str())]);
    }
  }

  // [sweep.method.<name>] tables: nested tables flattened to dotted recipe keys, each value kept
  // as TOML text. Only keys a unit recipe may set are allowed.
  void read(const toml::node& n, const std::string& k, std::map<std::string, std::map<std::string, std::string>>& out) {
    if (!n.is_table()) fail(k, fmt::format("expects a table of per-method tables, found {}", type_name(n)));
    out.clear();
    for (const auto& [name, value] : *n.as_table()) {
      const std::string sub = k + "." + std::string(name.str());
      if (!value.is_table()) fail(sub, fmt::format("expects a table of recipe keys, found {}", type_name(value)));
      auto& settings = out[std::string(name.str())];
      flatten(*value.as_table(), sub, "", settings);
    }
  }
  void flatten(const toml::table& table, const std::string& where_prefix, const std::string& prefix,
               std::map<std::string, std::string>& out) {
    for (const auto& [name, value] : table) {
      const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      if (value.is_table()) {
        flatten(*value.as_table(), where_prefix, key, out);
        continue;
      }
      const std::string dotted = where_prefix + "." + key;
      const auto& keys = recipe_keys();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        const std::string close = closest_match(key, keys);
        fail(dotted, fmt::format("is not a recipe key{}", close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close)));
      }
      if (key.rfind("sweep.", 0) == 0 || key == "peft.method")
        fail(dotted, "cannot be set per method (the sweep section and peft.method are the sweep's own)");
      std::ostringstream text;
      value.visit([&](const auto& v) { text << v; });
      out[key] = text.str();
    }
  }

  const Locations& locs_;
  std::vector<Frame> frames_;
};

// Writes every field (defaults included) as TOML text in schema order, for printing and
// hashing. Floats use the shortest text that reads back to the same double.
class Writer {
 public:
  std::string text;

  template <typename T, typename Check = std::nullptr_t>
  void field(const Key& key, const T& value, Check = nullptr) {
    if (key.presence == kWhenSet && value == T{}) return;
    const std::string rendered = render(value);
    if (key.presence == kUnlessDefault && key.default_text && rendered == key.default_text) return;
    text += fmt::format("{} = {}\n", key.name, rendered);
  }
  template <typename Fn>
  void section(const Key& key, Fn&& body) {
    text += fmt::format("\n[{}]\n", key.name);
    body();
  }

 private:
  static std::string render(int64_t v) { return std::to_string(v); }
  static std::string render(bool v) { return v ? "true" : "false"; }
  static std::string render(double v) {
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep it a TOML float
    return s;
  }
  static std::string render(const std::string& v) {
    std::string out = "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\', out += c;
      else if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else out += c;
    }
    return out + "\"";
  }
  template <typename E>
  static std::string render(const std::vector<E>& v) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + render(v[i]);
    return out + "]";
  }
  static std::string render(const std::map<std::string, std::vector<std::string>>& m) {
    std::string out = "{";
    size_t i = 0;
    for (const auto& [k, v] : m) out += (i++ ? ", " : " ") + render(k) + " = " + render(v);
    return out + (m.empty() ? "}" : " }");
  }
  // Inline tables with dotted keys, which read back as the same nested tables.
  static std::string render(const std::map<std::string, std::map<std::string, std::string>>& m) {
    std::string out = "{";
    size_t i = 0;
    for (const auto& [method, settings] : m) {
      out += (i++ ? ", " : " ") + method + " = {";
      size_t j = 0;
      for (const auto& [key, value] : settings) out += (j++ ? ", " : " ") + key + " = " + value;
      out += settings.empty() ? "}" : " }";
    }
    return out + (m.empty() ? "}" : " }");
  }
};

// Collects the dotted key list.
class KeyLister {
 public:
  std::vector<std::string> keys;
  template <typename T, typename Check = std::nullptr_t>
  void field(const Key& key, const T&, Check = nullptr) {
    keys.push_back(prefix_.empty() ? key.name : prefix_ + "." + key.name);
  }
  template <typename Fn>
  void section(const Key& key, Fn&& body) {
    std::string saved = prefix_;
    prefix_ = prefix_.empty() ? key.name : prefix_ + "." + key.name;
    body();
    prefix_ = saved;
  }

 private:
  std::string prefix_;
};

// The values of the kNoTraining keys: taken from one recipe, then put into another. Both visits
// walk the same schema, so the n-th value taken belongs to the n-th key put.
class UntrainedKeys {
 public:
  void take_from(Recipe& recipe) {
    restoring_ = false;
    values_.clear();
    visit_recipe(*this, recipe);
  }
  void put_into(Recipe& recipe) {
    restoring_ = true;
    next_ = 0;
    visit_recipe(*this, recipe);
  }

  template <typename T, typename Check = std::nullptr_t>
  void field(const Key& key, T& value, Check = nullptr) {
    if (key.role != kNoTraining && !in_untrained_section_) return;
    if (restoring_) value = std::any_cast<const T&>(values_.at(next_++));
    else values_.emplace_back(value);
  }
  template <typename Fn>
  void section(const Key& key, Fn&& body) {
    const bool outer = in_untrained_section_;
    in_untrained_section_ = outer || key.role == kNoTraining;
    body();
    in_untrained_section_ = outer;
  }

 private:
  std::vector<std::any> values_;
  size_t next_ = 0;
  bool restoring_ = false;
  bool in_untrained_section_ = false;
};

// ${VAR} and ${VAR:-default} in path values, so shipped recipes can point at a data root.
std::string expand_env(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      size_t end = s.find('}', i);
      if (end == std::string::npos) break;
      std::string body = s.substr(i + 2, end - i - 2), fallback;
      size_t dash = body.find(":-");
      if (dash != std::string::npos) fallback = body.substr(dash + 2), body = body.substr(0, dash);
      const char* v = std::getenv(body.c_str());
      out += (v && *v) ? std::string(v) : fallback;
      i = end;
    } else {
      out += s[i];
    }
  }
  return out;
}

// sweep.tasks entries are relative to the file that listed them (or to the current directory
// when they came from --set).
void resolve_task_paths(Recipe& r, const Locations& locs) {
  auto it = locs.find("sweep.tasks");
  if (it == locs.end() || it->second.rfind("--set", 0) == 0) return;
  const std::string& loc = it->second;
  const fs::path dir = fs::path(loc.substr(0, loc.rfind(':'))).parent_path();
  for (auto& t : r.sweep.tasks)
    if (!fs::path(t).is_absolute()) t = (dir / t).lexically_normal().string();
}

// The [sweep.method.<m>] table of the recipe's final method (after `overrides`) is merged over
// the recipe before the overrides, so --set still wins; its keys keep their file:line.
void apply_method_settings(toml::table& merged, const toml::table& overrides, Locations& locs) {
  std::string method = "sct";
  for (const toml::table* t : {static_cast<const toml::table*>(&merged), &overrides})
    if (auto m = (*t)["peft"]["method"].value<std::string>()) method = *m;
  const toml::table* settings = merged["sweep"]["method"][method].as_table();
  if (!settings) return;
  const toml::table copy = *settings;
  const std::string prefix = "sweep.method." + method + ".";
  Locations moved;
  for (const auto& [k, v] : locs)
    if (k.rfind(prefix, 0) == 0) moved[k.substr(prefix.size())] = v;
  deep_merge(merged, copy);
  for (auto& [k, v] : moved) locs[k] = v;
}

// The evaluation keys that only make sense together.
void check_protocol(const Recipe& r) {
  const auto& splits = r.task.eval_splits;
  if (!splits.empty() && r.locations.count("task.eval_split") &&
      std::find(splits.begin(), splits.end(), r.task.eval_split) == splits.end())
    throw InputError(fmt::format("{}: key 'task.eval_split' = \"{}\" is not one of task.eval_splits ({}); "
                                 "leave it out when giving task.eval_splits",
                                 r.where("task.eval_split"), r.task.eval_split, join(splits, ", ")));
  const auto evaluated = evaluation_splits(r.task);
  if (!r.train.select_on.empty() &&
      std::find(evaluated.begin(), evaluated.end(), r.train.select_on) == evaluated.end())
    throw InputError(fmt::format("{}: key 'train.select_on' = \"{}\" is not an evaluation split (evaluated: {})",
                                 r.where("train.select_on"), r.train.select_on, join(evaluated, ", ")));
}

Recipe bind_recipe(const toml::table& merged, const Locations& locs, const std::string& source,
                   const std::string& fragment = "") {
  Recipe r;
  Reader reader(merged, locs);
  visit_recipe(reader, r);
  reader.finish();
  resolve_task_paths(r, locs);
  r.source_path = source;
  r.locations = locs;
  const std::string stem = fs::path(source).stem().string();
  if (r.name.empty()) r.name = stem;
  if (r.task.name.empty()) r.task.name = fragment.empty() ? r.name : fs::path(fragment).stem().string();
  r.model.checkpoint = expand_env(r.model.checkpoint);
  r.task.data = expand_env(r.task.data);
  r.train.export_model = expand_env(r.train.export_model);
  r.train.export_adapter = expand_env(r.train.export_adapter);
  r.peft.channels = expand_env(r.peft.channels);
  r.out = expand_env(r.out);
  check_protocol(r);
  return r;
}

// Per-method settings, then the overrides (applied in order, so the later of two wins).
void apply_settings_and_overrides(toml::table& merged, const std::vector<std::string>& overrides, Locations& locs) {
  toml::table over;
  Locations over_locs;
  for (const auto& o : overrides) apply_override(over, o, over_locs);
  apply_method_settings(merged, over, locs);
  deep_merge(merged, over);
  for (auto& [k, v] : over_locs) locs[k] = v;
}

}  // namespace

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides,
                   const std::string& fragment) {
  if (!fs::is_regular_file(path)) throw InputError(fmt::format("{}: recipe file not found", path));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  Locations locs;
  std::error_code ec;
  std::vector<std::string> stack{fs::weakly_canonical(path, ec).string()};
  toml::table merged = load_chain(path, ss.str(), locs, stack);
  if (!fragment.empty()) {
    if (!fs::is_regular_file(fragment))
      throw InputError(fmt::format("{}: key 'sweep.tasks': task file '{}' not found",
                                   locs.count("sweep.tasks") ? locs["sweep.tasks"] : path, fragment));
    std::ifstream fin(fragment);
    std::stringstream fss;
    fss << fin.rdbuf();
    toml::table part = parse_text(fss.str(), fragment);
    if (auto* ext = part.get("extends"))
      throw InputError(fmt::format("{}: key 'extends': a task file listed in sweep.tasks is merged over the "
                                   "sweep recipe and cannot extend another file",
                                   where(*ext, fragment)));
    if (part.get("sweep"))
      throw InputError(fmt::format("{}: key 'sweep': a task file cannot define a sweep",
                                   where(*part.get("sweep"), fragment)));
    record_locations(part, "", fragment, locs);
    deep_merge(merged, part);
  }
  apply_settings_and_overrides(merged, overrides, locs);
  return bind_recipe(merged, locs, path, fragment);
}

Recipe parse_recipe(const std::string& text, const std::string& name,
                    const std::vector<std::string>& overrides) {
  Locations locs;
  std::error_code ec;
  std::vector<std::string> stack{fs::weakly_canonical(name, ec).string()};
  toml::table merged = load_chain(name, text, locs, stack);
  apply_settings_and_overrides(merged, overrides, locs);
  return bind_recipe(merged, locs, name);
}

std::string recipe_to_toml(const Recipe& recipe) {
  Writer w;
  visit_recipe(w, const_cast<Recipe&>(recipe));
  return w.text;
}

namespace {

// Keys added after recipe hashes were first written (the PEFT baselines' settings). The hashed
// text leaves them out while they hold their defaults, so a recipe that does not use them keeps
// the hash older builds wrote into its run directories.
bool added_later(const std::string& section, const std::string& line) {
  static const char* keys[] = {"rank", "init", "bottleneck", "adaptformer_scale", "adaptformer_dropout",
                               "prompts", "prompt_depth"};
  if (section != "[peft]") return false;
  for (const char* k : keys)
    if (line.rfind(std::string(k) + " = ", 0) == 0) return true;
  return false;
}

// The last section, [dist], was added after hashes were pinned: left out when it holds the
// defaults, so recipes that do not set it keep their hashes.
std::string without_default_dist(const std::string& text, const std::string& defaults) {
  const char* header = "\n[dist]\n";
  const size_t at = text.rfind(header), plain_at = defaults.rfind(header);
  if (at == std::string::npos || plain_at == std::string::npos) return text;
  return text.compare(at, std::string::npos, defaults, plain_at, std::string::npos) == 0 ? text.substr(0, at) : text;
}

// recipe_to_toml without the added_later keys that equal their defaults. Both texts come from
// the same schema, one line per field, so their lines correspond one to one.
std::string hashed_text(const Recipe& recipe) {
  const std::string defaults_full = recipe_to_toml(Recipe{});
  const std::string text = without_default_dist(recipe_to_toml(recipe), defaults_full);
  const std::string defaults = without_default_dist(defaults_full, defaults_full);
  std::string out, section;
  size_t a = 0, b = 0;
  while (a < text.size()) {
    const size_t ea = text.find('\n', a), eb = defaults.find('\n', b);
    const std::string line = text.substr(a, ea - a), plain = defaults.substr(b, eb - b);
    if (!line.empty() && line[0] == '[') section = line;
    if (!(added_later(section, line) && line == plain)) out += line + "\n";
    if (ea == std::string::npos) break;
    a = ea + 1;
    b = eb == std::string::npos ? defaults.size() : eb + 1;
  }
  if (!text.empty() && text.back() != '\n') out.pop_back();
  return out;
}

}  // namespace

std::string recipe_hash(const Recipe& recipe) { return hex64(fnv1a64(hashed_text(recipe))); }

std::string training_hash(const Recipe& recipe) {
  Recipe defaults, copy = recipe;
  UntrainedKeys untrained;
  untrained.take_from(defaults);
  untrained.put_into(copy);
  return hex64(fnv1a64(hashed_text(copy)));
}

std::string Recipe::where(const std::string& key) const {
  const auto it = locations.find(key);
  if (it != locations.end()) return it->second;
  return source_path.empty() ? "recipe" : source_path;
}

bool parse_device(const std::string& device, int* cuda_index) {
  int index = -1;
  const bool numbered = device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() < 10 &&
                        device.find_first_not_of("0123456789", 5) == std::string::npos;
  if (numbered) index = std::atoi(device.c_str() + 5);
  if (cuda_index) *cuda_index = index;
  return numbered || device == "auto" || device == "cpu" || device == "cuda";
}

std::vector<std::string> evaluation_splits(const TaskSection& task) {
  return task.eval_splits.empty() ? std::vector<std::string>{task.eval_split} : task.eval_splits;
}

std::vector<std::string> reported_splits(const Recipe& recipe) {
  const std::string& selector = recipe.train.select_on;
  std::vector<std::string> out;
  for (const auto& s : evaluation_splits(recipe.task))
    if (s != selector) out.push_back(s);
  if (out.empty()) out.push_back(selector);
  return out;
}

std::vector<std::string> recipe_keys() {
  static const std::vector<std::string> keys = [] {
    KeyLister l;
    Recipe r;
    visit_recipe(l, r);
    return l.keys;
  }();
  return keys;
}

}  // namespace sct
