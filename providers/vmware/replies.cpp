#include "providers/vmware/replies.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include <pugixml.hpp>

namespace provisiond::providers::vmware {

namespace {

const char* local(const char* name) {
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}

bool is(const pugi::xml_node& n, const char* name) {
  return std::strcmp(local(n.name()), name) == 0;
}

pugi::xml_node child(const pugi::xml_node& n, const char* name) {
  for (auto c : n.children())
    if (c.type() == pugi::node_element && is(c, name)) return c;
  return {};
}

// The first element anywhere below `n` with that local name.
pugi::xml_node find(const pugi::xml_node& n, const char* name) {
  return n.find_node([name](const pugi::xml_node& c) { return c.type() == pugi::node_element && is(c, name); });
}

std::string text(const pugi::xml_node& n) {
  return n.text().get();
}

// xsi:type under whatever prefix the sender bound the namespace to.
std::string xsi_type(const pugi::xml_node& n) {
  for (auto a : n.attributes())
    if (std::strchr(a.name(), ':') && std::strcmp(local(a.name()), "type") == 0) return a.value();
  return {};
}

bool has_elements(const pugi::xml_node& n) {
  for (auto c : n.children())
    if (c.type() == pugi::node_element) return true;
  return false;
}

void flatten(const pugi::xml_node& n, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (auto c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    auto path = prefix.empty() ? std::string(local(c.name())) : prefix + "." + local(c.name());
    if (has_elements(c)) {
      flatten(c, path, out);
      continue;
    }
    out[path] = text(c);
    if (auto t = c.attribute("type")) out[path + "@type"] = t.value();  // a reference's type
  }
}

bool load(pugi::xml_document& doc, const std::string& xml) {
  return doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
}

pugi::xml_node body_of(const pugi::xml_document& doc) {
  auto env = doc.document_element();
  auto body = child(env, "Body");
  return body ? body : env;
}

vim_fault fault_from(const pugi::xml_node& f, std::string message) {
  vim_fault out;
  out.type = xsi_type(f);
  if (out.type.empty()) {
    out.type = local(f.name());
    if (out.type.size() > 5 && out.type.compare(out.type.size() - 5, 5, "Fault") == 0)
      out.type.resize(out.type.size() - 5);
  }
  out.message = std::move(message);
  flatten(f, "", out.fields);
  return out;
}

std::string serialize(const pugi::xml_node& n) {
  std::ostringstream s;
  n.print(s, "", pugi::format_raw | pugi::format_no_declaration);
  return s.str();
}

// A device as a <device xsi:type="..."> element our envelope can carry.
std::string as_device(const pugi::xml_node& n) {
  pugi::xml_document doc;
  auto d = doc.append_copy(n);
  d.set_name("device");
  std::vector<pugi::xml_node> all{d};
  for (auto& x : d.select_nodes(".//*")) all.push_back(x.node());
  for (auto& x : all) {
    std::vector<pugi::xml_attribute> drop;
    for (auto a : x.attributes()) {
      if (std::strncmp(a.name(), "xmlns", 5) == 0)
        drop.push_back(a);
      else if (std::strchr(a.name(), ':') && std::strcmp(local(a.name()), "type") == 0)
        a.set_name("xsi:type");
    }
    for (auto& a : drop) x.remove_attribute(a);
  }
  return serialize(d);
}

device device_from(const pugi::xml_node& n) {
  device d;
  d.type = xsi_type(n);
  d.key = std::atoi(text(child(n, "key")).c_str());
  d.capacity_kb = std::atoll(text(child(n, "capacityInKB")).c_str());
  if (auto b = child(n, "backing")) {
    auto bt = xsi_type(b);
    if (bt.find("VirtualEthernetCard") == 0) {
      d.backing_type = bt;
      d.device_name = text(child(b, "deviceName"));
      d.network = text(child(b, "network"));
      d.portgroup_key = text(child(child(b, "port"), "portgroupKey"));
    }
  }
  d.xml = as_device(n);
  return d;
}

}  // namespace

std::string vim_fault::describe() const {
  std::string out = type + ": " + (message.empty() ? "(no message)" : message);
  std::string extra;
  for (auto& [k, v] : fields) {
    if (v.empty() || k == "faultMessage" || k.rfind("faultCause", 0) == 0) continue;
    extra += (extra.empty() ? "" : ", ") + k + "=" + v;
  }
  return extra.empty() ? out : out + " (" + extra + ")";
}

std::optional<vim_fault> fault_of(const std::string& xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto body = body_of(doc);
  if (auto f = child(body, "Fault")) {
    auto detail = child(f, "detail");
    pugi::xml_node inner;
    for (auto c : detail.children())
      if (c.type() == pugi::node_element) {
        inner = c;
        break;
      }
    auto message = text(child(f, "faultstring"));
    if (!inner) return vim_fault{"SOAPFault", message, {}};
    return fault_from(inner, message);
  }
  if (auto missing = find(body, "missingSet")) {
    auto f = child(child(missing, "fault"), "fault");
    if (!f) f = child(missing, "fault");
    return fault_from(f, "property " + text(child(missing, "path")) + " not readable");
  }
  return std::nullopt;
}

std::optional<moref> returned_moref(const std::string& xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto r = find(body_of(doc), "returnval");
  if (!r || !r.attribute("type")) return std::nullopt;
  return moref{r.attribute("type").value(), text(r)};
}

std::optional<service_content> parse_service_content(const std::string& xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto r = find(body_of(doc), "returnval");
  if (!r) return std::nullopt;
  auto ref = [&](const char* name) {
    auto n = child(r, name);
    return moref{n.attribute("type").value(), text(n)};
  };
  service_content sc{ref("rootFolder"), ref("propertyCollector"), ref("sessionManager"), ref("searchIndex"),
                     ref("perfManager")};
  if (sc.property_collector.empty() || sc.session_manager.empty() || sc.search_index.empty()) return std::nullopt;
  return sc;
}

std::optional<object_view> parse_object(const std::string& xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto r = find(body_of(doc), "returnval");
  if (!r) return std::nullopt;
  object_view v;
  auto obj = child(r, "obj");
  v.obj = {obj.attribute("type").value(), text(obj)};
  for (auto ps : r.children()) {
    if (!is(ps, "propSet")) continue;
    auto path = text(child(ps, "name"));
    auto val = child(ps, "val");
    auto type = xsi_type(val);
    if (type == "ArrayOfOptionValue") {
      for (auto o : val.children())
        if (o.type() == pugi::node_element) v.extra_config[text(child(o, "key"))] = text(child(o, "value"));
    } else if (type == "ArrayOfVirtualDevice") {
      for (auto d : val.children())
        if (d.type() == pugi::node_element) v.devices.push_back(device_from(d));
    } else if (has_elements(val)) {
      flatten(val, path, v.values);
    } else {
      v.values[path] = text(val);
      if (auto t = val.attribute("type")) v.values[path + "@type"] = t.value();
    }
  }
  return v;
}

std::optional<task_info> parse_task_info(const std::string& xml) {
  pugi::xml_document doc;
  if (!load(doc, xml)) return std::nullopt;
  auto info = find(body_of(doc), "val");
  if (!info) return std::nullopt;
  task_info t;
  t.state = text(child(info, "state"));
  if (auto r = child(info, "result"); r && r.attribute("type")) t.result = moref{r.attribute("type").value(), text(r)};
  if (auto e = child(info, "error")) t.error = fault_from(child(e, "fault"), text(child(e, "localizedMessage")));
  if (t.state.empty()) return std::nullopt;
  return t;
}

std::map<std::string, int> parse_perf_counters(const std::string& xml) {
  std::map<std::string, int> out;
  pugi::xml_document doc;
  if (!load(doc, xml)) return out;
  auto val = find(body_of(doc), "val");
  for (auto c : val.children()) {
    if (c.type() != pugi::node_element) continue;
    auto name = text(child(child(c, "groupInfo"), "key")) + "." + text(child(child(c, "nameInfo"), "key")) + "." +
                text(child(c, "rollupType"));
    out.emplace(name, std::atoi(text(child(c, "key")).c_str()));
  }
  return out;
}

std::map<int, double> parse_perf_values(const std::string& xml) {
  std::map<int, double> out;
  pugi::xml_document doc;
  if (!load(doc, xml)) return out;
  for (auto metric : body_of(doc).first_child().children()) {  // returnval: one PerfEntityMetric
    for (auto series : metric.children()) {
      if (!is(series, "value")) continue;
      int id = std::atoi(text(child(child(series, "id"), "counterId")).c_str());
      pugi::xml_node last;
      for (auto v : series.children())
        if (is(v, "value")) last = v;
      if (last) out[id] = std::atof(text(last).c_str());
    }
  }
  return out;
}

std::string with_capacity(const device& disk, long long capacity_kb) {
  pugi::xml_document doc;
  if (!load(doc, disk.xml)) return disk.xml;
  auto d = doc.document_element();
  auto kb = child(d, "capacityInKB");
  if (!kb) kb = d.append_child("capacityInKB");
  kb.text().set(std::to_string(capacity_kb).c_str());
  if (auto bytes = child(d, "capacityInBytes")) bytes.text().set(std::to_string(capacity_kb * 1024).c_str());
  return serialize(d);
}

std::string with_backing(const device& nic, const std::string& backing_xml) {
  pugi::xml_document doc, b;
  if (!load(doc, nic.xml) || !b.load_buffer(backing_xml.data(), backing_xml.size())) return nic.xml;
  auto d = doc.document_element();
  auto old = child(d, "backing");
  auto fresh = old ? d.insert_copy_before(b.document_element(), old) : d.append_copy(b.document_element());
  (void)fresh;
  if (old) d.remove_child(old);
  if (auto c = child(d, "connectable")) {
    if (auto sc = child(c, "startConnected")) sc.text().set("true");
  }
  return serialize(d);
}

}  // namespace provisiond::providers::vmware
