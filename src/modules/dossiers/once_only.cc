#include "modules/dossiers/once_only.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/text.h"

namespace tl::dossiers {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> Strings(const json& entry, const char* key, const std::string& where, bool required) {
  std::vector<std::string> out;
  if (!entry.contains(key)) {
    if (required) return InvalidArgument("needs \"" + std::string(key) + "\"", where);
    return out;
  }
  if (!entry[key].is_array()) return InvalidArgument("\"" + std::string(key) + "\" must be an array of strings", where);
  for (const auto& v : entry[key]) {
    if (!v.is_string() || text::Trim(v.get<std::string>()).empty()) {
      return InvalidArgument("\"" + std::string(key) + "\" must hold non-empty strings", where);
    }
    TL_ASSIGN_OR_RETURN(auto nfc, text::NormalizeNfc(v.get<std::string>(), where));
    out.push_back(std::move(nfc));
  }
  return out;
}

}  // namespace

ComponentDocumentRules::Words ComponentDocumentRules::WordsOf(std::string_view text) {
  // Tokens keeps dots inside words (procedure codes); a sentence's full stop is not part of a word.
  Words out;
  for (std::string& w : text::Tokens(text::FoldForSearch(text))) {
    size_t first = w.find_first_not_of('.'), last = w.find_last_not_of('.');
    if (first == std::string::npos) continue;
    out.push_back(w.substr(first, last - first + 1));
  }
  return out;
}

bool ComponentDocumentRules::Contains(const Words& haystack, const Words& needle) {
  if (needle.empty() || needle.size() > haystack.size()) return false;
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

Result<ComponentDocumentRules> ComponentDocumentRules::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read the component-document rules at " + path);
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("is not JSON", path);
  return Parse(j, path);
}

Result<ComponentDocumentRules> ComponentDocumentRules::Parse(const json& file, const std::string& where) {
  if (!file.is_object() || !file.contains("document_types") || !file["document_types"].is_array()) {
    return InvalidArgument("needs a \"document_types\" array", where);
  }
  ComponentDocumentRules out;
  TL_ASSIGN_OR_RETURN(auto never, Strings(file, "never", where + ": never", false));
  for (const auto& n : never) out.never_.push_back(WordsOf(n));
  for (const auto& entry : file["document_types"]) {
    if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string()) {
      return InvalidArgument("every document type needs a \"type\" name", where);
    }
    DocumentTypeRule r;
    r.type = entry["type"].get<std::string>();
    const std::string at = where + ": " + r.type;
    if (r.type.empty() || r.type.size() > 100) return InvalidArgument("a type name is 1-100 characters", at);
    r.label_vi = entry.value("label_vi", r.type);
    r.label_en = entry.value("label_en", r.label_vi);
    TL_ASSIGN_OR_RETURN(r.issued_by, Strings(entry, "issued_by", at, false));
    TL_ASSIGN_OR_RETURN(r.phrases, Strings(entry, "components", at, true));
    if (r.phrases.empty()) return InvalidArgument("lists no component phrases", at);
    if (entry.contains("valid_days")) {
      if (!entry["valid_days"].is_number_integer() || entry["valid_days"].get<int64_t>() < 1 ||
          entry["valid_days"].get<int64_t>() > 36600) {
        return InvalidArgument("\"valid_days\" must be a whole number of days (1-36600)", at);
      }
      r.valid_days = entry["valid_days"].get<int>();
    }
    std::vector<Words> patterns;
    for (const auto& p : r.phrases) {
      Words w = WordsOf(p);
      if (w.empty()) return InvalidArgument("a component phrase has no words", at);
      patterns.push_back(std::move(w));
    }
    size_t index = out.rules_.size();
    for (const std::string& key : [&] {
           std::vector<std::string> keys{r.type};
           keys.insert(keys.end(), r.issued_by.begin(), r.issued_by.end());
           return keys;
         }()) {
      if (!out.by_document_type_.emplace(key, index).second) {
        return InvalidArgument("\"" + key + "\" belongs to two document types", at);
      }
    }
    out.rules_.push_back(std::move(r));
    out.patterns_.push_back(std::move(patterns));
  }
  return out;
}

const DocumentTypeRule* ComponentDocumentRules::RuleOfDocument(const std::string& document_type) const {
  auto it = by_document_type_.find(document_type);
  return it == by_document_type_.end() ? nullptr : &rules_[it->second];
}

std::vector<const DocumentTypeRule*> ComponentDocumentRules::RulesForComponent(std::string_view component) const {
  std::vector<const DocumentTypeRule*> out;
  Words words = WordsOf(component);
  for (const auto& n : never_) {
    if (Contains(words, n)) return out;
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    for (const auto& p : patterns_[i]) {
      if (Contains(words, p)) {
        out.push_back(&rules_[i]);
        break;
      }
    }
  }
  return out;
}

bool ComponentDocumentRules::Satisfies(std::string_view component, const std::string& document_type) const {
  const DocumentTypeRule* rule = RuleOfDocument(document_type);
  if (!rule) return false;
  for (const DocumentTypeRule* r : RulesForComponent(component)) {
    if (r == rule) return true;
  }
  return false;
}

bool ComponentDocumentRules::WithinValidDays(const DocumentTypeRule& rule, const std::string& issued_on,
                                             const std::string& today) {
  if (rule.valid_days <= 0) return true;
  auto issued = ParseDate(issued_on, "issued_on");
  auto now = ParseDate(today, "today");
  if (!issued.ok() || !now.ok()) return false;  // an undated document cannot show it is still recent
  return (*now - *issued) / 86400000 <= rule.valid_days;
}

}  // namespace tl::dossiers
