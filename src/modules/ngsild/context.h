// JSON-LD @context handling for NGSI-LD, reduced to what the API needs: attribute names and entity
// types are expanded to IRIs on input and compacted back on output (ETSI GS CIM 009, clause 5.5.7).
//
// Contract:
// - A Context is an active context: term → IRI, a @vocab, and the compact-IRI prefixes. It is built
//   from the user's @context (a Link header URL, or the "@context" member of an application/ld+json
//   body: URLs, term maps whose values are IRIs, compact IRIs, terms or objects with "@id", arrays of
//   these, null), applied over the NGSI-LD core context, after which the core's terms and @vocab are
//   applied again: the core context always takes precedence, as the specification requires.
// - Only contexts held locally are ever used (ContextRegistry): the ETSI core context (every version
//   URL of it designates the one we hold, v1.4) and the platform's Smart Data Models term map, each
//   also reachable under /ngsi-ld/v1/jsonldContexts/{id} on any host. A URL we do not hold fails with
//   LdContextNotAvailable (503); nothing is ever fetched from the network. Malformed contexts fail with
//   BadRequestData naming "@context".
// - Expand() maps a term, a compact IRI (prefix:suffix with a defined prefix) or an absolute IRI to an
//   IRI; anything else is resolved against @vocab. Compact() prefers, in order: a term, a
//   @vocab-relative name, the shortest compact IRI, the IRI itself (as JSON-LD compaction does), so a
//   name expanded and compacted with the same context comes back unchanged.
// - Built contexts for the default and for each held URL are made once and shared, so answering a
//   request that uses them parses nothing.
//
// Thread-safety: a Context and the ContextRegistry are immutable after construction; share freely.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"

namespace tl::ngsild {

// The canonical URL of the core context we hold and advertise in Link headers.
inline constexpr std::string_view kCoreContextUrl = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.4.jsonld";
// The path under which held contexts are served (GET {kContextsPath}/{id}).
inline constexpr std::string_view kContextsPath = "/ngsi-ld/v1/jsonldContexts";
// The rel of a Link header that carries a JSON-LD context.
inline constexpr std::string_view kJsonLdContextRel = "http://www.w3.org/ns/json-ld#context";

inline constexpr size_t kMaxContextTerms = 20000;  // terms of one request's inline @context
inline constexpr int kMaxContextDepth = 8;         // nesting of referenced contexts

class Context {
 public:
  // The term's, compact IRI's or IRI's expansion. Keywords a term aliases ("@type", "@id") are returned
  // as such; callers reject them as names.
  std::string Expand(std::string_view name) const;
  // The shortest faithful name for `iri` under this context.
  std::string Compact(std::string_view iri) const;

  // The URL responses name as their context (Link header, or "@context" of ld+json bodies): the one
  // the request named, or the core's; empty for an inline context that is not a single URL.
  const std::string& url() const { return url_; }

  size_t term_count() const { return terms_.size(); }

 private:
  friend class ContextRegistry;
  void Finish();  // builds the reverse index and the prefix list

  std::unordered_map<std::string, std::string> terms_;         // term -> IRI (or keyword)
  std::unordered_map<std::string, std::string> reverse_;       // IRI -> preferred term
  std::vector<std::pair<std::string, std::string>> prefixes_;  // (IRI, term) usable in compact IRIs
  std::string vocab_;
  std::string url_;
};

// One context document we hold and serve.
struct HeldContext {
  std::string id;           // "ngsi-ld-core-context-v1.4.jsonld": served at {kContextsPath}/{id}
  std::string url;          // the canonical URL clients put in Link headers or "@context"
  std::string description;  // for the listing
  std::string document;     // the file as served
};

class ContextRegistry {
 public:
  // Loads the held contexts from `dir` (data/ngsi-ld): the core context and the Smart Data Models
  // term map, whose canonical URL is `base_url` + kContextsPath + "/thanglong-smart-data-models.jsonld"
  // (base_url: the platform's public URL). Fails when a file is missing or malformed.
  static Result<std::shared_ptr<const ContextRegistry>> Load(const std::string& dir, const std::string& base_url);

  // The default: the core context alone (referenced by kCoreContextUrl).
  std::shared_ptr<const Context> Default() const { return default_; }

  // The context a Link header value names: `<url>; rel="http://www.w3.org/ns/json-ld#context"`.
  // Errors: BadRequestData for a malformed header, LdContextNotAvailable for a URL we do not hold.
  // `url`, when given, receives the URL the header named (empty without a context link), which
  // responses echo.
  Result<std::shared_ptr<const Context>> FromLinkHeader(std::string_view link, std::string* url = nullptr) const;
  // The context of a held URL (any core version, or one of ours under any host).
  Result<std::shared_ptr<const Context>> FromUrl(std::string_view url) const;
  // The context of an "@context" member (string, object or array).
  Result<std::shared_ptr<const Context>> FromValue(const nlohmann::json& value) const;

  const std::vector<HeldContext>& held() const { return held_; }
  const HeldContext* FindById(std::string_view id) const;

 private:
  struct Token {};

 public:
  explicit ContextRegistry(Token) {}  // through Load()

 private:
  struct Held {
    HeldContext info;
    std::shared_ptr<const nlohmann::json> context;  // the document's "@context" value
    std::shared_ptr<const Context> built;
  };
  // The held document `url` designates, or nullptr.
  const Held* Resolve(std::string_view url) const;
  // Applies a context value over `ctx` (JSON-LD context processing, reduced).
  Status Apply(const nlohmann::json& value, Context* ctx, int depth) const;
  Status ApplyObject(const nlohmann::json& object, Context* ctx, int depth) const;
  // Re-applies the core's terms and @vocab (they take precedence) and finishes `ctx`.
  std::shared_ptr<const Context> Seal(Context ctx, std::string url) const;

  std::vector<HeldContext> held_;
  std::vector<Held> docs_;
  Context core_;  // the core's terms alone
  std::shared_ptr<const Context> default_;
};

// True when `s` looks like an absolute IRI/URI: a scheme ("[A-Za-z][A-Za-z0-9+.-]*:") followed by at
// least one character, with no whitespace, control characters or <>"{}|\^` (entity ids, datasetIds,
// relationship objects).
bool IsUri(std::string_view s);

}  // namespace tl::ngsild
