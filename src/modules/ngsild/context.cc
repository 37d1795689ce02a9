#include "modules/ngsild/context.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "modules/ngsild/errors.h"

namespace tl::ngsild {

using nlohmann::json;

namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool IsKeyword(std::string_view s) {
  return !s.empty() && s[0] == '@';
}

// JSON-LD's gen-delims: an IRI ending in one of them can serve as a compact-IRI prefix.
bool EndsWithGenDelim(std::string_view iri) {
  return !iri.empty() && std::string_view(":/?#[]@").find(iri.back()) != std::string_view::npos;
}

// "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld" or "...-core-context-v1.N.jsonld".
bool IsCoreContextUrl(std::string_view url) {
  for (std::string_view base : {"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context",
                                "http://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context"}) {
    if (!StartsWith(url, base)) continue;
    std::string_view rest = url.substr(base.size());
    if (rest == ".jsonld") return true;
    if (!StartsWith(rest, "-v1.")) return false;
    rest.remove_prefix(4);
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    return digits > 0 && digits <= 3 && rest.substr(digits) == ".jsonld";
  }
  return false;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPrecondition("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status ContextError(std::string message) {
  return BadRequestData("@context: " + std::move(message), "@context");
}

}  // namespace

bool IsUri(std::string_view s) {
  if (s.empty() || s.size() > 4096) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(s[0])) return false;
  size_t i = 1;
  while (i < s.size() && (alpha(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '.' || s[i] == '-')) {
    ++i;
  }
  if (i >= s.size() || s[i] != ':' || i + 1 >= s.size()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f ||
        std::string_view("<>\"{}|\\^`").find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Context

std::string Context::Expand(std::string_view name) const {
  if (auto it = terms_.find(std::string(name)); it != terms_.end()) return it->second;
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    std::string_view suffix = name.substr(colon + 1);
    if (StartsWith(suffix, "//")) return std::string(name);  // an absolute IRI
    auto prefix = terms_.find(std::string(name.substr(0, colon)));
    if (prefix != terms_.end() && !IsKeyword(prefix->second)) return prefix->second + std::string(suffix);
    return std::string(name);  // another scheme (urn:...)
  }
  return vocab_ + std::string(name);
}

std::string Context::Compact(std::string_view iri) const {
  if (auto it = reverse_.find(std::string(iri)); it != reverse_.end()) return it->second;
  if (!vocab_.empty() && iri.size() > vocab_.size() && StartsWith(iri, vocab_)) {
    std::string rest(iri.substr(vocab_.size()));
    if (rest.find(':') == std::string::npos && !terms_.contains(rest)) return rest;
  }
  std::string best;
  for (const auto& [prefix_iri, term] : prefixes_) {
    if (iri.size() <= prefix_iri.size() || !StartsWith(iri, prefix_iri)) continue;
    std::string candidate = term + ":" + std::string(iri.substr(prefix_iri.size()));
    if (auto clash = terms_.find(candidate); clash != terms_.end() && clash->second != iri) continue;
    if (best.empty() || candidate.size() < best.size() || (candidate.size() == best.size() && candidate < best)) {
      best = std::move(candidate);
    }
  }
  return best.empty() ? std::string(iri) : best;
}

void Context::Finish() {
  reverse_.clear();
  prefixes_.clear();
  for (const auto& [term, iri] : terms_) {
    if (IsKeyword(iri)) continue;
    auto [it, inserted] = reverse_.emplace(iri, term);
    if (!inserted && (term.size() < it->second.size() || (term.size() == it->second.size() && term < it->second))) {
      it->second = term;
    }
    if (term.find(':') == std::string::npos && EndsWithGenDelim(iri)) prefixes_.emplace_back(iri, term);
  }
  std::sort(prefixes_.begin(), prefixes_.end());
}

// ---------------------------------------------------------------------------------------------------
// ContextRegistry

Result<std::shared_ptr<const ContextRegistry>> ContextRegistry::Load(const std::string& dir,
                                                                     const std::string& base_url) {
  auto reg = std::make_shared<ContextRegistry>(Token{});
  struct File {
    const char* id;
    std::string url;
    const char* description;
  };
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const File files[] = {
      {"ngsi-ld-core-context-v1.4.jsonld", std::string(kCoreContextUrl),
       "The NGSI-LD core @context (ETSI GS CIM 009), version 1.4; every version URL of it designates this one"},
      {"thanglong-smart-data-models.jsonld", base + std::string(kContextsPath) + "/thanglong-smart-data-models.jsonld",
       "FIWARE Smart Data Models terms of the operations center: AirQualityObserved, TrafficFlowObserved, "
       "OffStreetParking, ParkingSpot, FloodMonitoring, WaterObserved, Streetlight, Alert"},
  };
  for (const auto& f : files) {
    std::string path = dir + "/" + f.id;
    TL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("@context")) return FailedPrecondition(path + " is not a JSON-LD context");
    Held h;
    h.info = {f.id, f.url, f.description, std::move(text)};
    h.context = std::make_shared<const json>(doc["@context"]);
    reg->docs_.push_back(std::move(h));
  }
  // The core's own terms, from an empty context.
  Context core;
  Status st = reg->Apply(*reg->docs_[0].context, &core, 0);
  if (!st.ok()) return FailedPrecondition("the core context does not load: " + st.message());
  if (core.vocab_.empty()) return FailedPrecondition("the core context has no @vocab");
  reg->core_ = core;
  for (auto& h : reg->docs_) {
    Context ctx = reg->core_;
    Status applied = reg->Apply(*h.context, &ctx, 0);
    if (!applied.ok()) return FailedPrecondition(h.info.id + " does not load: " + applied.message());
    h.built = reg->Seal(std::move(ctx), h.info.url);
    reg->held_.push_back(h.info);
  }
  reg->default_ = reg->docs_[0].built;
  return std::shared_ptr<const ContextRegistry>(std::move(reg));
}

const HeldContext* ContextRegistry::FindById(std::string_view id) const {
  for (const auto& h : held_) {
    if (h.id == id) return &h;
  }
  return nullptr;
}

const ContextRegistry::Held* ContextRegistry::Resolve(std::string_view url) const {
  if (IsCoreContextUrl(url)) return &docs_[0];
  for (const auto& h : docs_) {
    if (url == h.info.url) return &h;
  }
  // Ours under any host: http(s)://host[:port]/ngsi-ld/v1/jsonldContexts/{id}.
  for (std::string_view scheme : {"https://", "http://"}) {
    if (!StartsWith(url, scheme)) continue;
    std::string_view rest = url.substr(scheme.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return nullptr;
    std::string_view path = rest.substr(slash);
    if (!StartsWith(path, kContextsPath) || path.size() <= kContextsPath.size() + 1 ||
        path[kContextsPath.size()] != '/') {
      return nullptr;
    }
    std::string_view id = path.substr(kContextsPath.size() + 1);
    for (const auto& h : docs_) {
      if (h.info.id == id) return &h;
    }
  }
  return nullptr;
}

std::shared_ptr<const Context> ContextRegistry::Seal(Context ctx, std::string url) const {
  for (const auto& [term, iri] : core_.terms_) ctx.terms_[term] = iri;
  ctx.vocab_ = core_.vocab_;
  ctx.url_ = std::move(url);
  ctx.Finish();
  return std::make_shared<const Context>(std::move(ctx));
}

Status ContextRegistry::Apply(const json& value, Context* ctx, int depth) const {
  if (depth > kMaxContextDepth)
    return ContextError("contexts nest more than " + std::to_string(kMaxContextDepth) + " deep");
  if (value.is_null()) {
    ctx->terms_.clear();
    ctx->vocab_.clear();
    return Status::Ok();
  }
  if (value.is_string()) {
    const std::string& url = value.get_ref<const std::string&>();
    const Held* held = Resolve(url);
    if (held == nullptr) {
      return LdContextNotAvailable("the @context '" + url +
                                   "' is not one this broker holds, and it never fetches contexts: use one listed by "
                                   "GET /ngsi-ld/v1/jsonldContexts, or give the terms inline");
    }
    return Apply(*held->context, ctx, depth + 1);
  }
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      const json& item = value[i];
      if (!item.is_string() && !item.is_object() && !item.is_null()) {
        return ContextError("item " + std::to_string(i) + " must be a URL, an object or null");
      }
      TL_RETURN_IF_ERROR(Apply(item, ctx, depth + 1));
    }
    return Status::Ok();
  }
  if (value.is_object()) return ApplyObject(value, ctx, depth);
  return ContextError("must be a URL, an object or an array of them");
}

Status ContextRegistry::ApplyObject(const json& object, Context* ctx, int depth) const {
  if (object.size() > kMaxContextTerms) return ContextError("more than " + std::to_string(kMaxContextTerms) + " terms");
  // @import, then @vocab, then the terms (JSON-LD's order).
  if (auto imp = object.find("@import"); imp != object.end()) {
    if (!imp->is_string()) return ContextError("@import must be a URL");
    TL_RETURN_IF_ERROR(Apply(*imp, ctx, depth + 1));
  }
  std::map<std::string, const json*> pending;
  for (const auto& [key, def] : object.items()) {
    if (key.empty()) return ContextError("a term may not be empty");
    if (key.size() > 2048) return ContextError("a term is longer than 2048 characters");
    if (key == "@vocab" || key == "@import") continue;
    if (IsKeyword(key)) {
      static constexpr std::string_view kIgnored[] = {"@base",      "@version",   "@language",
                                                      "@direction", "@protected", "@propagate"};
      if (std::find(std::begin(kIgnored), std::end(kIgnored), key) == std::end(kIgnored)) {
        return ContextError("unknown keyword '" + key + "'");
      }
      continue;
    }
    pending.emplace(key, &def);
  }

  std::set<std::string> in_progress;
  // Expands an IRI-valued definition, defining the local terms it depends on first.
  std::function<Result<std::string>(const std::string&, const std::string&)> expand_iri;
  std::function<Status(const std::string&)> define = [&](const std::string& term) -> Status {
    auto it = pending.find(term);
    if (it == pending.end()) return Status::Ok();
    if (!in_progress.insert(term).second) return ContextError("the definition of '" + term + "' is cyclic");
    const json& def = *it->second;
    std::optional<std::string> iri;
    if (def.is_null()) {
      // An explicitly unmapped term: it falls back to @vocab like any unknown name.
    } else if (def.is_string()) {
      TL_ASSIGN_OR_RETURN(iri, expand_iri(def.get<std::string>(), term));
    } else if (def.is_object()) {
      if (def.contains("@reverse")) return ContextError("'" + term + "': reverse properties are not supported");
      auto id = def.find("@id");
      if (id != def.end() && !id->is_null() && !id->is_string()) {
        return ContextError("'" + term + "': @id must be a string");
      }
      if (id != def.end() && id->is_string()) {
        TL_ASSIGN_OR_RETURN(iri, expand_iri(id->get<std::string>(), term));
      } else if (id == def.end()) {
        if (term.find(':') != std::string::npos) {
          TL_ASSIGN_OR_RETURN(iri, expand_iri(term, term));
        } else if (!ctx->vocab_.empty()) {
          iri = ctx->vocab_ + term;
        } else {
          return ContextError("'" + term + "' has no @id and there is no @vocab");
        }
      }
    } else {
      return ContextError("the definition of '" + term + "' must be a string, an object or null");
    }
    if (iri) {
      ctx->terms_[term] = *iri;
    } else {
      ctx->terms_.erase(term);
    }
    in_progress.erase(term);
    pending.erase(term);
    return Status::Ok();
  };
  expand_iri = [&](const std::string& v, const std::string& defining) -> Result<std::string> {
    if (v.empty()) return ContextError("'" + defining + "' maps to an empty IRI");
    if (v.size() > 4096) return ContextError("'" + defining + "' maps to an IRI longer than 4096 characters");
    if (IsKeyword(v)) {
      if (v != "@id" && v != "@type") return ContextError("'" + defining + "' aliases an unsupported keyword " + v);
      return v;
    }
    size_t colon = v.find(':');
    if (colon != std::string::npos) {
      std::string prefix = v.substr(0, colon);
      std::string suffix = v.substr(colon + 1);
      if (StartsWith(suffix, "//")) return v;
      if (prefix != defining) TL_RETURN_IF_ERROR(define(prefix));
      auto p = ctx->terms_.find(prefix);
      if (p != ctx->terms_.end() && !IsKeyword(p->second)) return p->second + suffix;
      return v;
    }
    if (v != defining) TL_RETURN_IF_ERROR(define(v));
    if (auto t = ctx->terms_.find(v); t != ctx->terms_.end() && v != defining) return t->second;
    if (ctx->vocab_.empty()) return ContextError("'" + defining + "' maps to '" + v + "', which is no IRI");
    return ctx->vocab_ + v;
  };

  if (auto vocab = object.find("@vocab"); vocab != object.end()) {
    if (vocab->is_null()) {
      ctx->vocab_.clear();
    } else if (vocab->is_string()) {
      std::string v = vocab->get<std::string>();
      if (v.empty()) return ContextError("@vocab may not be empty");
      TL_ASSIGN_OR_RETURN(ctx->vocab_, expand_iri(v, "@vocab"));
      if (IsKeyword(ctx->vocab_)) return ContextError("@vocab must be an IRI");
    } else {
      return ContextError("@vocab must be a string or null");
    }
  }
  while (!pending.empty()) TL_RETURN_IF_ERROR(define(pending.begin()->first));
  if (ctx->terms_.size() > kMaxContextTerms)
    return ContextError("more than " + std::to_string(kMaxContextTerms) + " terms");
  return Status::Ok();
}

Result<std::shared_ptr<const Context>> ContextRegistry::FromUrl(std::string_view url) const {
  const Held* held = Resolve(url);
  if (held == nullptr) {
    return LdContextNotAvailable("the @context '" + std::string(url) +
                                 "' is not one this broker holds, and it never fetches contexts: use one listed by "
                                 "GET /ngsi-ld/v1/jsonldContexts, or give the terms inline");
  }
  return held->built;
}

Result<std::shared_ptr<const Context>> ContextRegistry::FromValue(const json& value) const {
  if (value.is_string()) return FromUrl(value.get_ref<const std::string&>());
  if (!value.is_array() && !value.is_object() && !value.is_null()) {
    return ContextError("must be a URL, an object or an array of them");
  }
  // A one-URL array is as cheap as the URL.
  if (value.is_array() && value.size() == 1 && value[0].is_string()) return FromUrl(value[0].get<std::string>());
  Context ctx = core_;
  TL_RETURN_IF_ERROR(Apply(value, &ctx, 0));
  return Seal(std::move(ctx), std::string());
}

Result<std::shared_ptr<const Context>> ContextRegistry::FromLinkHeader(std::string_view link,
                                                                       std::string* url_out) const {
  // link-value *("," link-value); link-value = "<" URI ">" *(";" param)
  size_t i = 0;
  auto skip_space = [&] {
    while (i < link.size() && (link[i] == ' ' || link[i] == '\t')) ++i;
  };
  while (true) {
    skip_space();
    while (i < link.size() && (link[i] == ',' || link[i] == ' ')) ++i;
    if (i >= link.size()) break;
    if (link[i] != '<')
      return BadRequestData("the Link header must be '<URL>; rel=\"" + std::string(kJsonLdContextRel) + "\"", "Link");
    size_t close = link.find('>', i);
    if (close == std::string_view::npos) return BadRequestData("the Link header has no closing '>'", "Link");
    std::string_view url = link.substr(i + 1, close - i - 1);
    i = close + 1;
    std::string rel;
    while (true) {
      skip_space();
      if (i >= link.size() || link[i] != ';') break;
      ++i;
      skip_space();
      size_t eq = link.find('=', i);
      size_t end_param = link.find_first_of(";,", i);
      if (eq == std::string_view::npos || (end_param != std::string_view::npos && eq > end_param)) {
        i = end_param == std::string_view::npos ? link.size() : end_param;
        continue;
      }
      std::string_view name = link.substr(i, eq - i);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      i = eq + 1;
      skip_space();
      std::string val;
      if (i < link.size() && link[i] == '"') {
        size_t q = link.find('"', i + 1);
        if (q == std::string_view::npos) return BadRequestData("the Link header has an unterminated quote", "Link");
        val = std::string(link.substr(i + 1, q - i - 1));
        i = q + 1;
      } else {
        size_t e = link.find_first_of(";,", i);
        if (e == std::string_view::npos) e = link.size();
        val = std::string(link.substr(i, e - i));
        while (!val.empty() && val.back() == ' ') val.pop_back();
        i = e;
      }
      if (name == "rel") rel = val;
    }
    if (rel == kJsonLdContextRel) {
      if (url.empty()) return BadRequestData("the Link header names an empty URL", "Link");
      if (url_out != nullptr) *url_out = std::string(url);
      return FromUrl(url);
    }
  }
  return default_;  // no JSON-LD context link: the core context
}

}  // namespace tl::ngsild
