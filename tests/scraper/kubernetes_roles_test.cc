// Kubernetes SD roles endpoints, endpointslice and ingress (and
// attach_metadata): the same objects as Prometheus 2.48's
// discovery/kubernetes/endpoints_test.go, endpointslice_test.go and
// ingress_test.go (v2.48.0) must give the same labels, first as pure
// functions, then through list + watch against a loopback API server.
// 2.48 differs from 2.42 in: endpoints get annotation labels, endpointslices
// label and annotation labels (addObjectMetaLabels in kubernetes.go);
// attach_metadata's node labels include its annotations; an address or
// endpoint whose targetRef is a Node gets that node's labels (endpoints.go,
// endpointslice.go); and a node change rebuilds only the endpoints and
// endpointslices its informer index names (kubernetes.go).
#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config.h"
#include "scraper/kubernetes_discovery.h"
#include "scraper/manager.h"
#include "tests/scraper/fake_kube_api.h"
#include "tests/scraper/kubernetes_test_objects.h"
#include "tests/support/memory_storage.h"

namespace vigil::scraper {
namespace {

using json = nlohmann::json;
using namespace k8s_test;
using LabelMap = std::map<std::string, std::string>;
using namespace std::chrono_literals;

constexpr char kCore[] = "/api/v1";
constexpr char kDiscoveryV1[] = "/apis/discovery.k8s.io/v1";
constexpr char kDiscoveryV1beta1[] = "/apis/discovery.k8s.io/v1beta1";
constexpr char kNetworkingV1[] = "/apis/networking.k8s.io/v1";

// ---- what Prometheus produces, and comparing with it ----

struct ExpectedGroup {
  std::string source;
  LabelMap labels;
  std::vector<LabelMap> targets;  // with __address__
};

LabelMap WithoutEmpty(LabelMap m) {  // Prometheus treats "" as absent
  std::erase_if(m, [](const auto& kv) { return kv.second.empty(); });
  return m;
}

LabelMap ToMap(const Labels& labels) {
  LabelMap m;
  for (const Label& l : labels) m[l.name] = l.value;
  return m;
}

void ExpectGroup(const config::TargetGroup& got, const ExpectedGroup& want) {
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(ToMap(got.labels), WithoutEmpty(want.labels)) << want.source;
  ASSERT_EQ(got.targets.size(), got.target_labels.size());
  std::vector<LabelMap> targets, want_targets;
  for (size_t i = 0; i < got.targets.size(); ++i) {
    targets.push_back(ToMap(got.target_labels[i]));
    targets.back()["__address__"] = got.targets[i];
  }
  for (const LabelMap& t : want.targets) want_targets.push_back(WithoutEmpty(t));
  EXPECT_EQ(targets, want_targets) << want.source;
}

// A store for the pure-function tests.
class MapLookup final : public KubernetesObjectLookup {
 public:
  MapLookup& Add(const std::string& resource, json object) {
    const json& md = object["metadata"];
    objects_[resource + "|" + md.value("namespace", "") + "/" + md.value("name", "")] =
        std::move(object);
    return *this;
  }
  const json* Find(std::string_view resource, std::string_view ns,
                   std::string_view name) const override {
    auto it =
        objects_.find(std::string(resource) + "|" + std::string(ns) + "/" + std::string(name));
    return it == objects_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, json> objects_;
};

// ---- the label sets of Prometheus's expectations ----

// Endpoints without labels or annotations (TestEndpointsDiscoveryAdd, ...Update).
const LabelMap kBareEndpointsLabels = {{"__meta_kubernetes_namespace", "default"},
                                       {"__meta_kubernetes_endpoints_name", "testendpoints"}};

// makeEndpoints()'s, with its "test.annotation" (2.48).
const LabelMap kPlainEndpointsLabels = {
    {"__meta_kubernetes_namespace", "default"},
    {"__meta_kubernetes_endpoints_name", "testendpoints"},
    {"__meta_kubernetes_endpoints_annotation_test_annotation", "test"},
    {"__meta_kubernetes_endpoints_annotationpresent_test_annotation", "true"}};

std::vector<LabelMap> PlainEndpointsTargets() {  // the targets of makeEndpoints()
  return {{{"__address__", "1.2.3.4:9000"},
           {"__meta_kubernetes_endpoint_hostname", "testendpoint1"},
           {"__meta_kubernetes_endpoint_node_name", "foobar"},
           {"__meta_kubernetes_endpoint_port_name", "testport"},
           {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
           {"__meta_kubernetes_endpoint_ready", "true"}},
          {{"__address__", "2.3.4.5:9001"},
           {"__meta_kubernetes_endpoint_port_name", "testport"},
           {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
           {"__meta_kubernetes_endpoint_ready", "true"}},
          {{"__address__", "2.3.4.5:9001"},
           {"__meta_kubernetes_endpoint_port_name", "testport"},
           {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
           {"__meta_kubernetes_endpoint_ready", "false"}},
          {{"__address__", "6.7.8.9:9002"},
           {"__meta_kubernetes_endpoint_address_target_kind", "Node"},
           {"__meta_kubernetes_endpoint_address_target_name", "barbaz"},
           {"__meta_kubernetes_endpoint_port_name", "testport"},
           {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
           {"__meta_kubernetes_endpoint_ready", "true"}}};
}

// attach_metadata's labels for MakeNode(az, name).
LabelMap NodeLabels(const std::string& name, const std::string& az) {
  return {{"__meta_kubernetes_node_name", name},
          {"__meta_kubernetes_node_label_az", az},
          {"__meta_kubernetes_node_labelpresent_az", "true"}};
}

LabelMap ServiceLabels(const LabelMap& labels) {  // a service "testendpoints" with these labels
  LabelMap m = {{"__meta_kubernetes_service_name", "testendpoints"},
                {"__meta_kubernetes_namespace", "default"}};
  for (const auto& [k, v] : labels) {
    m["__meta_kubernetes_service_label_" + k] = v;
    m["__meta_kubernetes_service_labelpresent_" + k] = "true";
  }
  return m;
}

LabelMap Merge(LabelMap a, const LabelMap& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

const LabelMap kTestPodLabels = {
    {"__meta_kubernetes_pod_name", "testpod"},       {"__meta_kubernetes_pod_ip", "1.2.3.4"},
    {"__meta_kubernetes_pod_ready", "unknown"},      {"__meta_kubernetes_pod_phase", ""},
    {"__meta_kubernetes_pod_node_name", "testnode"}, {"__meta_kubernetes_pod_host_ip", "2.3.4.5"},
    {"__meta_kubernetes_pod_uid", "deadbeef"}};

// The second target of both Add tests: c2's port, which no address covers.
const LabelMap kSidePortTarget =
    Merge(kTestPodLabels, {{"__address__", "1.2.3.4:9001"},
                           {"__meta_kubernetes_pod_container_name", "c2"},
                           {"__meta_kubernetes_pod_container_image", "c2:latest"},
                           {"__meta_kubernetes_pod_container_port_name", "sideport"},
                           {"__meta_kubernetes_pod_container_port_number", "9001"},
                           {"__meta_kubernetes_pod_container_port_protocol", "TCP"}});

const LabelMap kMainPortLabels = {{"__meta_kubernetes_pod_container_name", "c1"},
                                  {"__meta_kubernetes_pod_container_image", "c1:latest"},
                                  {"__meta_kubernetes_pod_container_port_name", "mainport"},
                                  {"__meta_kubernetes_pod_container_port_number", "9000"},
                                  {"__meta_kubernetes_pod_container_port_protocol", "TCP"}};

ExpectedGroup EndpointsAddExpectation() {  // TestEndpointsDiscoveryAdd
  return {"endpoints/default/testendpoints",
          kBareEndpointsLabels,
          {Merge(Merge(kTestPodLabels, kMainPortLabels),
                 {{"__address__", "4.3.2.1:9000"},
                  {"__meta_kubernetes_endpoint_port_name", "testport"},
                  {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
                  {"__meta_kubernetes_endpoint_ready", "true"},
                  {"__meta_kubernetes_endpoint_address_target_kind", "Pod"},
                  {"__meta_kubernetes_endpoint_address_target_name", "testpod"}}),
           kSidePortTarget}};
}

// A slice without labels or annotations (TestEndpointSliceDiscoveryAdd).
const LabelMap kBareSliceLabels = {{"__meta_kubernetes_endpointslice_address_type", "IPv4"},
                                   {"__meta_kubernetes_namespace", "default"},
                                   {"__meta_kubernetes_endpointslice_name", "testendpoints"}};

// makeEndpointSlice*()'s: 2.48 adds the slice's labels and annotations.
const LabelMap kSliceLabels =
    Merge(kBareSliceLabels,
          {{"__meta_kubernetes_endpointslice_label_kubernetes_io_service_name", "testendpoints"},
           {"__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name", "true"},
           {"__meta_kubernetes_endpointslice_annotation_test_annotation", "test"},
           {"__meta_kubernetes_endpointslice_annotationpresent_test_annotation", "true"}});

// The endpoint whose targetRef is the Node "barbaz" (2.48's fixtures).
const LabelMap kNodeRefEndpoint = {
    {"__meta_kubernetes_endpointslice_address_target_kind", "Node"},
    {"__meta_kubernetes_endpointslice_address_target_name", "barbaz"}};

LabelMap SlicePort(const std::string& address, bool app_protocol = true) {
  LabelMap m = {{"__address__", address},
                {"__meta_kubernetes_endpointslice_port", "9000"},
                {"__meta_kubernetes_endpointslice_port_name", "testport"},
                {"__meta_kubernetes_endpointslice_port_protocol", "TCP"}};
  if (app_protocol) m["__meta_kubernetes_endpointslice_port_app_protocol"] = "http";
  return m;
}

LabelMap Conditions(const char* ready, const char* serving, const char* terminating) {
  return {{"__meta_kubernetes_endpointslice_endpoint_conditions_ready", ready},
          {"__meta_kubernetes_endpointslice_endpoint_conditions_serving", serving},
          {"__meta_kubernetes_endpointslice_endpoint_conditions_terminating", terminating}};
}

ExpectedGroup EndpointSliceV1Expectation() {  // TestEndpointSliceDiscoveryBeforeRun
  return {"endpointslice/default/testendpoints",
          kSliceLabels,
          {Merge(Merge(SlicePort("1.2.3.4:9000"), Conditions("true", "true", "false")),
                 {{"__meta_kubernetes_endpointslice_address_target_kind", ""},
                  {"__meta_kubernetes_endpointslice_address_target_name", ""},
                  {"__meta_kubernetes_endpointslice_endpoint_hostname", "testendpoint1"},
                  {"__meta_kubernetes_endpointslice_endpoint_topology_present_topology", "true"},
                  {"__meta_kubernetes_endpointslice_endpoint_topology_topology", "value"}}),
           Merge(SlicePort("2.3.4.5:9000"), Conditions("true", "true", "false")),
           Merge(SlicePort("3.4.5.6:9000"), Conditions("false", "true", "true")),
           Merge(Merge(SlicePort("4.5.6.7:9000"), Conditions("true", "true", "false")),
                 kNodeRefEndpoint)}};
}

ExpectedGroup EndpointSliceV1beta1Expectation() {  // TestEndpointSliceDiscoveryBeforeRunV1beta1
  return {"endpointslice/default/testendpoints",
          kSliceLabels,
          {Merge(SlicePort("1.2.3.4:9000", false),
                 {{"__meta_kubernetes_endpointslice_endpoint_hostname", "testendpoint1"}}),
           Merge(SlicePort("2.3.4.5:9000", false), Conditions("true", "true", "false")),
           Merge(SlicePort("3.4.5.6:9000", false), Conditions("false", "true", "true")),
           Merge(Merge(SlicePort("4.5.6.7:9000", false), Conditions("true", "true", "false")),
                 kNodeRefEndpoint)}};
}

ExpectedGroup IngressExpectation(Tls tls) {  // expectedTargetGroups("default", tls)
  const std::string scheme1 = tls == Tls::kYes || tls == Tls::kMixed ? "https" : "http";
  const std::string scheme2 = tls == Tls::kYes || tls == Tls::kWildcard ? "https" : "http";
  auto target = [](const std::string& scheme, const std::string& host, const std::string& path) {
    return LabelMap{{"__meta_kubernetes_ingress_scheme", scheme},
                    {"__meta_kubernetes_ingress_host", host},
                    {"__meta_kubernetes_ingress_path", path},
                    {"__address__", host}};
  };
  return {"ingress/default/testingress",
          {{"__meta_kubernetes_ingress_name", "testingress"},
           {"__meta_kubernetes_namespace", "default"},
           {"__meta_kubernetes_ingress_label_test_label", "testvalue"},
           {"__meta_kubernetes_ingress_labelpresent_test_label", "true"},
           {"__meta_kubernetes_ingress_annotation_test_annotation", "testannotationvalue"},
           {"__meta_kubernetes_ingress_annotationpresent_test_annotation", "true"},
           {"__meta_kubernetes_ingress_class_name", "testclass"}},
          {target(scheme1, "example.com", "/"), target(scheme1, "example.com", "/foo"),
           target(scheme2, "test.example.com", "/")}};
}

// ---- pure functions: Prometheus's cases ----

TEST(KubernetesEndpoints, PlainEndpoints_OneTargetPerAddressAndPort) {
  ExpectGroup(KubernetesObjectToGroup("endpoints", MakeEndpoints()),
              {"endpoints/default/testendpoints", kPlainEndpointsLabels, PlainEndpointsTargets()});
}

TEST(KubernetesEndpoints, PodBackedAddress_CarriesPodLabelsAndUncoveredPortsBecomeTargets) {
  MapLookup lookup;
  lookup.Add("pods", MakeTestPod());
  ExpectGroup(KubernetesObjectToGroup("endpoints", MakePodEndpoints(), &lookup),
              EndpointsAddExpectation());
}

TEST(KubernetesEndpoints, ServiceOfTheSameName_AddsServiceLabels) {
  MapLookup lookup;
  lookup.Add("services", MakeService({{"app/name", "test"}}));
  ExpectGroup(KubernetesObjectToGroup("endpoints", MakeEndpoints(), &lookup),
              {"endpoints/default/testendpoints",
               Merge(kPlainEndpointsLabels, ServiceLabels({{"app_name", "test"}})),
               PlainEndpointsTargets()});
}

// TestEndpointsDiscoveryWithNodeMetadata: nodeName "foobar" on one address,
// a targetRef of kind Node "barbaz" on another.
TEST(KubernetesEndpoints, AttachNodeMetadata_NodeFromNodeNameOrNodeTargetRef) {
  MapLookup lookup;
  lookup.Add("services", MakeService({{"app/name", "test"}}))
      .Add("nodes", MakeNode("us-east1"))
      .Add("nodes", MakeNode("us-west2", "barbaz"));
  std::vector<LabelMap> targets = PlainEndpointsTargets();
  targets[0] = Merge(targets[0], NodeLabels("foobar", "us-east1"));
  targets[3] = Merge(targets[3], NodeLabels("barbaz", "us-west2"));
  ExpectGroup(KubernetesObjectToGroup("endpoints", MakeEndpoints(), &lookup, true),
              {"endpoints/default/testendpoints",
               Merge(kPlainEndpointsLabels, ServiceLabels({{"app_name", "test"}})), targets});
  // Without attach_metadata the node is not looked at.
  EXPECT_FALSE(KubernetesObjectToGroup("endpoints", MakeEndpoints(), &lookup)
                   .target_labels[0]
                   .Has("__meta_kubernetes_node_name"));
}

// endpoints.go: nodeName, when set, wins over a Node targetRef.
TEST(KubernetesEndpoints, AttachNodeMetadata_NodeNameWinsOverNodeTargetRef) {
  MapLookup lookup;
  lookup.Add("nodes", MakeNode("us-east1")).Add("nodes", MakeNode("us-west2", "barbaz"));
  json eps = MakeEndpoints();
  eps["subsets"][2]["addresses"][0]["nodeName"] = "foobar";
  const config::TargetGroup g = KubernetesObjectToGroup("endpoints", eps, &lookup, true);
  EXPECT_EQ(g.target_labels[3].Get("__meta_kubernetes_node_name"), "foobar");
  EXPECT_EQ(g.target_labels[3].Get("__meta_kubernetes_node_label_az"), "us-east1");
}

// addNodeLabels (2.48) goes through addObjectMetaLabels: the node's
// annotations come too.
TEST(KubernetesEndpoints, AttachNodeMetadata_IncludesNodeAnnotations) {
  json node = MakeNode("us-east1");
  node["metadata"]["annotations"] = {{"node.alpha.kubernetes.io/ttl", "0"}};
  MapLookup lookup;
  lookup.Add("nodes", node);
  const config::TargetGroup g =
      KubernetesObjectToGroup("endpoints", MakeEndpoints(), &lookup, true);
  EXPECT_EQ(
      g.target_labels[0].Get("__meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl"),
      "0");
  EXPECT_EQ(g.target_labels[0].Get(
                "__meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl"),
            "true");
}

TEST(KubernetesEndpoints, EmptySubsets_GroupWithoutTargets) {
  json eps = MakeEndpoints();
  eps["subsets"] = json::array();
  ExpectGroup(KubernetesObjectToGroup("endpoints", eps),
              {"endpoints/default/testendpoints", kPlainEndpointsLabels, {}});
}

TEST(KubernetesEndpoints, EndpointsLabelsAndAnnotations_AreAttached) {
  json eps = MakeEndpoints();
  eps["metadata"]["labels"] = {{"app.kubernetes.io/name", "x"}};
  eps["metadata"]["annotations"] = {{"a", "b"}};  // 2.42 ignored them; 2.48 attaches them
  const config::TargetGroup g = KubernetesObjectToGroup("endpoints", eps);
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_endpoints_label_app_kubernetes_io_name"), "x");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_name"),
            "true");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_endpoints_annotation_a"), "b");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_endpoints_annotationpresent_a"), "true");
}

// TestEndpointsDiscoveryEmptyPodStatus: a pod without an IP (starting or
// evicted) gives no targets for its container ports.
TEST(KubernetesEndpoints, PodWithoutIp_NoContainerPortTargets) {
  json pod = MakeTestPod();
  pod["status"] = json::object();
  MapLookup lookup;
  lookup.Add("pods", pod);
  const config::TargetGroup g = KubernetesObjectToGroup("endpoints", MakePodEndpoints(), &lookup);
  ASSERT_EQ(g.targets, std::vector<std::string>{"4.3.2.1:9000"});
}

TEST(KubernetesEndpointSlice, V1Slice_LabelsPerEndpointAndPort) {
  ExpectGroup(KubernetesObjectToGroup("endpointslice", MakeEndpointSliceV1()),
              EndpointSliceV1Expectation());
}

TEST(KubernetesEndpointSlice, V1beta1Slice_OnlySetFieldsBecomeLabels) {
  ExpectGroup(KubernetesObjectToGroup("endpointslice", MakeEndpointSliceV1beta1()),
              EndpointSliceV1beta1Expectation());
}

TEST(KubernetesEndpointSlice, V1beta1Topology_BecomesTopologyLabels) {
  json slice = MakeEndpointSliceV1beta1();
  slice["endpoints"][0]["topology"] = {{"kubernetes.io/hostname", "node-1"}};
  const config::TargetGroup g = KubernetesObjectToGroup("endpointslice", slice);
  EXPECT_EQ(g.target_labels[0].Get(
                "__meta_kubernetes_endpointslice_endpoint_topology_kubernetes_io_hostname"),
            "node-1");
  EXPECT_EQ(g.target_labels[0].Get(
                "__meta_kubernetes_endpointslice_endpoint_topology_present_kubernetes_io_hostname"),
            "true");
}

TEST(KubernetesEndpointSlice, PodBackedEndpoint_CarriesPodLabelsAndUncoveredPortsBecomeTargets) {
  MapLookup lookup;
  lookup.Add("pods", MakeTestPod());
  ExpectGroup(KubernetesObjectToGroup("endpointslice", MakePodEndpointSlice(), &lookup),
              {"endpointslice/default/testendpoints",
               kBareSliceLabels,
               {Merge(Merge(kTestPodLabels, kMainPortLabels),
                      {{"__address__", "4.3.2.1:9000"},
                       {"__meta_kubernetes_endpointslice_address_target_kind", "Pod"},
                       {"__meta_kubernetes_endpointslice_address_target_name", "testpod"},
                       {"__meta_kubernetes_endpointslice_endpoint_conditions_ready", "false"},
                       {"__meta_kubernetes_endpointslice_port", "9000"},
                       {"__meta_kubernetes_endpointslice_port_name", "testport"},
                       {"__meta_kubernetes_endpointslice_port_protocol", "TCP"}}),
                kSidePortTarget}});
}

TEST(KubernetesEndpointSlice, ServiceNamedByLabel_AddsServiceLabels) {
  MapLookup lookup;
  lookup.Add("services", MakeService({{"app/name", "test"}}));
  ExpectedGroup want = EndpointSliceV1Expectation();
  want.labels = Merge(want.labels, ServiceLabels({{"app_name", "test"}}));
  ExpectGroup(KubernetesObjectToGroup("endpointslice", MakeEndpointSliceV1(), &lookup), want);
}

// TestEndpointsSlicesDiscoveryWithNodeMetadata.
TEST(KubernetesEndpointSlice, AttachNodeMetadata_NodeFromNodeNameOrNodeTargetRef) {
  MapLookup lookup;
  lookup.Add("nodes", MakeNode("us-east1")).Add("nodes", MakeNode("us-west2", "barbaz"));
  ExpectedGroup want = EndpointSliceV1Expectation();
  want.targets[0] = Merge(want.targets[0], NodeLabels("foobar", "us-east1"));
  want.targets[3] = Merge(want.targets[3], NodeLabels("barbaz", "us-west2"));
  ExpectGroup(KubernetesObjectToGroup("endpointslice", MakeEndpointSliceV1(), &lookup, true), want);
}

// endpointslice.go: a Node targetRef wins over nodeName (the reverse of endpoints).
TEST(KubernetesEndpointSlice, AttachNodeMetadata_NodeTargetRefWinsOverNodeName) {
  MapLookup lookup;
  lookup.Add("nodes", MakeNode("us-east1")).Add("nodes", MakeNode("us-west2", "barbaz"));
  json slice = MakeEndpointSliceV1();
  slice["endpoints"][3]["nodeName"] = "foobar";
  const config::TargetGroup g = KubernetesObjectToGroup("endpointslice", slice, &lookup, true);
  EXPECT_EQ(g.target_labels[3].Get("__meta_kubernetes_node_name"), "barbaz");
  EXPECT_EQ(g.target_labels[3].Get("__meta_kubernetes_node_label_az"), "us-west2");
}

// The informers' node index (kubernetes.go, 2.48): only addresses with a
// targetRef count; a Pod's via its nodeName, a Node's by its name.
TEST(KubernetesIndexedNodes, OnlyTargetRefBackedAddressesAreIndexed) {
  EXPECT_EQ(KubernetesIndexedNodes("endpoints", MakeEndpoints()),
            std::vector<std::string>{"barbaz"});
  EXPECT_EQ(KubernetesIndexedNodes("endpointslice", MakeEndpointSliceV1()),
            std::vector<std::string>{"barbaz"});
  json eps = MakePodEndpoints();
  EXPECT_TRUE(KubernetesIndexedNodes("endpoints", eps).empty());  // a Pod without nodeName
  eps["subsets"][0]["addresses"][0]["nodeName"] = "testnode";
  EXPECT_EQ(KubernetesIndexedNodes("endpoints", eps), std::vector<std::string>{"testnode"});
  eps["subsets"][0]["notReadyAddresses"] = eps["subsets"][0]["addresses"];
  eps["subsets"][0]["addresses"] = json::array();  // not-ready addresses are not indexed
  EXPECT_TRUE(KubernetesIndexedNodes("endpoints", eps).empty());
  json slice = MakePodEndpointSlice();
  slice["endpoints"][0]["nodeName"] = "testnode";
  EXPECT_EQ(KubernetesIndexedNodes("endpointslice", slice), std::vector<std::string>{"testnode"});
  json pod = MakeTestPod();
  EXPECT_EQ(KubernetesIndexedNodes("pod", pod), std::vector<std::string>{"testnode"});
  EXPECT_TRUE(KubernetesIndexedNodes("service", MakeService({})).empty());
}

TEST(KubernetesEndpointSlice, PortWithoutNumber_AddressAlone) {
  json slice = MakeEndpointSliceV1();
  slice["ports"] = json::parse(R"([{"name": "x"}])");
  const config::TargetGroup g = KubernetesObjectToGroup("endpointslice", slice);
  EXPECT_EQ(g.targets[1], "2.3.4.5");
  EXPECT_FALSE(g.target_labels[1].Has("__meta_kubernetes_endpointslice_port"));
}

class KubernetesIngressTls : public ::testing::TestWithParam<Tls> {};

TEST_P(KubernetesIngressTls, TargetPerRulePath_SchemeFromTlsHosts) {
  ExpectGroup(KubernetesObjectToGroup("ingress", MakeIngress(GetParam())),
              IngressExpectation(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Modes, KubernetesIngressTls,
                         ::testing::Values(Tls::kNo, Tls::kYes, Tls::kMixed, Tls::kWildcard));

TEST(KubernetesIngress, RuleWithoutHttp_IsOneTargetForSlash) {
  json ingress = MakeIngress(Tls::kNo);
  ingress["spec"]["rules"] = json::parse(R"([{"host": "a.example.com"}])");
  const config::TargetGroup g = KubernetesObjectToGroup("ingress", ingress);
  ASSERT_EQ(g.targets, std::vector<std::string>{"a.example.com"});
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_ingress_path"), "/");
}

TEST(KubernetesPod, AttachNodeMetadata_AddsNodeLabelsAndAnnotationsToTheGroup) {
  json pod = MakeTestPod();
  pod["spec"]["nodeName"] = "foobar";
  json node = MakeNode("us-east1");
  node["metadata"]["annotations"] = {{"team", "infra"}};
  MapLookup lookup;
  lookup.Add("nodes", node);
  const config::TargetGroup g = KubernetesObjectToGroup("pod", pod, &lookup, true);
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_name"), "foobar");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_label_az"), "us-east1");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_labelpresent_az"), "true");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_annotation_team"), "infra");  // 2.48
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_annotationpresent_team"), "true");
}

// ---- the config loader: Prometheus's selector and namespace rules ----

std::string SdConfigError(const std::string& sd_config) {
  auto c = config::LoadConfigString(
      "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n" + sd_config,
      "prometheus.yml");
  return c.ok() ? "loaded" : c.status().message();
}

TEST(KubernetesSdConfig, SelectorRoles_ArePrometheusAllowedOnesOncePerRole) {
  EXPECT_EQ(SdConfigError("      - role: endpoints\n        selectors:\n          - role: pod\n"
                          "          - role: service\n          - role: endpoints\n"),
            "loaded");
  EXPECT_NE(SdConfigError("      - role: endpoints\n        selectors:\n          - role: node\n")
                .find("endpoints role supports only pod, service, endpoints selectors"),
            std::string::npos);
  EXPECT_NE(SdConfigError("      - role: ingress\n        selectors:\n          - role: pod\n")
                .find("ingress role supports only ingress selectors"),
            std::string::npos);
  EXPECT_NE(SdConfigError("      - role: endpointslice\n        selectors:\n          - role: pod\n"
                          "          - role: pod\n")
                .find("duplicated selector role: pod"),
            std::string::npos);
}

TEST(KubernetesSdConfig, OwnNamespaceWithApiServer_IsRejected) {
  EXPECT_NE(SdConfigError("      - role: pod\n        api_server: http://k:6443\n"
                          "        namespaces: {own_namespace: true}\n")
                .find("cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"),
            std::string::npos);
}

// ---- list + watch against the loopback API server ----

// The latest group list a discoverer reported.
class GroupsRecorder {
 public:
  GroupsCallback Callback() {
    return [this](std::vector<config::TargetGroup> groups) {
      std::lock_guard<std::mutex> lock(mu_);
      groups_ = std::move(groups);
      ++updates_;
      cv_.notify_all();
    };
  }
  // Waits (5s at most) for a report satisfying `done`; returns the latest.
  std::vector<config::TargetGroup> WaitFor(
      const std::function<bool(const std::vector<config::TargetGroup>&)>& done) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return updates_ > 0 && done(groups_); });
    return groups_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<config::TargetGroup> groups_;
  int updates_ = 0;
};

const config::TargetGroup* FindGroup(const std::vector<config::TargetGroup>& groups,
                                     const std::string& source) {
  for (const auto& g : groups) {
    if (g.source == source) return &g;
  }
  return nullptr;
}

config::KubernetesSdConfig SdConfig(const FakeKubeApi& api, const std::string& role,
                                    std::vector<std::string> namespaces = {"default"}) {
  config::KubernetesSdConfig c;
  c.role = role;
  c.api_server = api.url();
  c.namespaces = std::move(namespaces);
  return c;
}

TEST(KubernetesDiscoveryEndpoints, ListThenWatchServicePodAndEndpointsEvents) {
  FakeKubeApi api;
  api.Add(kCore, "endpoints", MakeEndpoints());
  api.Add(kCore, "services", MakeService({{"app/name", "test"}}));
  KubernetesDiscoverer d(SdConfig(api, "endpoints"));
  GroupsRecorder rec;
  d.Start(rec.Callback());
  const std::string src = "endpoints/default/testendpoints";

  // TestEndpointsDiscoveryWithService: the initial list.
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], {src, Merge(kPlainEndpointsLabels, ServiceLabels({{"app_name", "test"}})),
                          PlainEndpointsTargets()});

  // TestEndpointsDiscoveryWithServiceUpdate: a MODIFIED service.
  api.Modify(kCore, "services", MakeService({{"app/name", "svc"}, {"component", "testing"}}));
  groups = rec.WaitFor([&](const auto& g) {
    return FindGroup(g, src) &&
           FindGroup(g, src)->labels.Has("__meta_kubernetes_service_label_component");
  });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], {src,
                          Merge(kPlainEndpointsLabels,
                                ServiceLabels({{"app_name", "svc"}, {"component", "testing"}})),
                          PlainEndpointsTargets()});

  // The service DELETED: back to the endpoints' own labels.
  api.Delete(kCore, "services", MakeService({}));
  groups = rec.WaitFor([&](const auto& g) {
    return g.size() == 1 && !g[0].labels.Has("__meta_kubernetes_service_name");
  });
  ExpectGroup(groups[0], {src, kPlainEndpointsLabels, PlainEndpointsTargets()});

  // TestEndpointsDiscoveryUpdate: MODIFIED endpoints.
  api.Modify(kCore, "endpoints", MakeUpdatedEndpoints());
  groups = rec.WaitFor([](const auto& g) { return g.size() == 1 && g[0].targets.size() == 2; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], {src,
                          kBareEndpointsLabels,
                          {{{"__address__", "1.2.3.4:9000"},
                            {"__meta_kubernetes_endpoint_port_name", "testport"},
                            {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
                            {"__meta_kubernetes_endpoint_ready", "true"}},
                           {{"__address__", "2.3.4.5:9001"},
                            {"__meta_kubernetes_endpoint_port_name", "testport"},
                            {"__meta_kubernetes_endpoint_port_protocol", "TCP"},
                            {"__meta_kubernetes_endpoint_ready", "true"}}}});

  // TestEndpointsDiscoveryDelete: the group goes.
  api.Delete(kCore, "endpoints", MakeEndpoints());
  groups = rec.WaitFor([](const auto& g) { return g.empty(); });
  EXPECT_TRUE(groups.empty());

  // TestEndpointsDiscoveryAdd: a pod, then endpoints pointing at it.
  api.Add(kCore, "pods", MakeTestPod());
  api.Add(kCore, "endpoints", MakePodEndpoints());
  groups = rec.WaitFor([](const auto& g) { return g.size() == 1 && g[0].targets.size() == 2; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], EndpointsAddExpectation());
  d.Stop();
}

TEST(KubernetesDiscoveryEndpoints, NamespacesAndSelectors_AreSentPerResource) {
  FakeKubeApi api;
  json ep1 = MakeEndpoints();
  ep1["metadata"]["namespace"] = "ns1";
  json ep3 = MakeEndpoints();
  ep3["metadata"]["namespace"] = "other";  // not watched
  api.Add(kCore, "endpoints", ep1);
  api.Add(kCore, "endpoints", ep3);
  config::KubernetesSdConfig c = SdConfig(api, "endpoints", {"ns1", "ns2"});
  c.selectors = {{"endpoints", "app=a", ""}, {"pod", "", "status.phase=Running"}};
  KubernetesDiscoverer d(c);
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return !g.empty(); });
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].source, "endpoints/ns1/testendpoints");
  d.Stop();
  std::set<std::string> lists;
  for (const std::string& r : api.requests()) {
    if (r.find("watch=") == std::string::npos) lists.insert(r);
  }
  EXPECT_EQ(lists, (std::set<std::string>{
                       "/api/v1/namespaces/ns1/endpoints?labelSelector=app=a",
                       "/api/v1/namespaces/ns2/endpoints?labelSelector=app=a",
                       "/api/v1/namespaces/ns1/pods?fieldSelector=status.phase=Running",
                       "/api/v1/namespaces/ns2/pods?fieldSelector=status.phase=Running",
                       "/api/v1/namespaces/ns1/services",
                       "/api/v1/namespaces/ns2/services",
                   }));
}

// TestEndpointsDiscoveryWithUpdatedNodeMetadata (2.48): a node change
// rebuilds only the endpoints its informer index names. In "testendpoints"
// the node "foobar" is named by a bare nodeName (not indexed): its new labels
// wait for the next rebuild of that group. In "second" the same address has a
// Pod targetRef, so "foobar" is indexed and that group is rebuilt at once;
// "barbaz" (a Node targetRef) is indexed in both.
TEST(KubernetesDiscoveryEndpoints, AttachMetadata_NodeUpdateRebuildsIndexedEndpointsOnly) {
  FakeKubeApi api;
  json second = MakeEndpoints();
  second["metadata"]["name"] = "second";
  second["subsets"][0]["addresses"][0]["targetRef"] = {
      {"kind", "Pod"}, {"name", "nopod"}, {"namespace", "default"}};
  api.Add(kCore, "endpoints", MakeEndpoints());
  api.Add(kCore, "endpoints", second);
  api.Add(kCore, "nodes", MakeNode("us-east1"));
  api.Add(kCore, "nodes", MakeNode("us-west2", "barbaz"));
  config::KubernetesSdConfig c = SdConfig(api, "endpoints");
  c.attach_metadata_node = true;
  KubernetesDiscoverer d(c);
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 2; });
  const std::string src = "endpoints/default/testendpoints";
  const std::string src2 = "endpoints/default/second";
  ASSERT_NE(FindGroup(groups, src), nullptr);
  std::vector<LabelMap> targets = PlainEndpointsTargets();
  targets[0] = Merge(targets[0], NodeLabels("foobar", "us-east1"));
  targets[3] = Merge(targets[3], NodeLabels("barbaz", "us-west2"));
  ExpectGroup(*FindGroup(groups, src), {src, kPlainEndpointsLabels, targets});
  auto az = [](const std::vector<config::TargetGroup>& g, const std::string& source, size_t i) {
    const config::TargetGroup* group = FindGroup(g, source);
    return group ? group->target_labels[i].Get("__meta_kubernetes_node_label_az") : "";
  };

  api.Modify(kCore, "nodes", MakeNode("eu-central1"));
  groups = rec.WaitFor([&](const auto& g) { return az(g, src2, 0) == "eu-central1"; });
  EXPECT_EQ(az(groups, src2, 0), "eu-central1");
  EXPECT_EQ(az(groups, src, 0), "us-east1");  // not rebuilt, as in Prometheus

  api.Modify(kCore, "nodes", MakeNode("eu-west3", "barbaz"));
  groups = rec.WaitFor([&](const auto& g) { return az(g, src, 3) == "eu-west3"; });
  EXPECT_EQ(az(groups, src, 3), "eu-west3");
  EXPECT_EQ(az(groups, src, 0), "eu-central1");  // the whole group was rebuilt
  d.Stop();
}

TEST(KubernetesDiscoveryEndpointSlice, ListThenWatchAddUpdateDelete) {
  FakeKubeApi api;
  api.Add(kDiscoveryV1, "endpointslices", MakeEndpointSliceV1());
  api.Add(kCore, "services", MakeService({{"app/name", "test"}}));
  KubernetesDiscoverer d(SdConfig(api, "endpointslice"));
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectedGroup want = EndpointSliceV1Expectation();
  want.labels = Merge(want.labels, ServiceLabels({{"app_name", "test"}}));
  ExpectGroup(groups[0], want);

  // ADDED pod, then a slice pointing at it (TestEndpointSliceDiscoveryAdd, under another name).
  api.Add(kCore, "pods", MakeTestPod());
  json slice = MakePodEndpointSlice();
  slice["metadata"]["name"] = "podslice";
  api.Add(kDiscoveryV1, "endpointslices", slice);
  const std::string src = "endpointslice/default/podslice";
  groups = rec.WaitFor(
      [&](const auto& g) { return FindGroup(g, src) && FindGroup(g, src)->targets.size() == 2; });
  ASSERT_NE(FindGroup(groups, src), nullptr);
  EXPECT_EQ(FindGroup(groups, src)->target_labels[0].Get("__meta_kubernetes_pod_container_name"),
            "c1");
  EXPECT_EQ(FindGroup(groups, src)->targets[1], "1.2.3.4:9001");

  // MODIFIED: the endpoint became ready.
  slice["endpoints"][0]["conditions"]["ready"] = true;
  api.Modify(kDiscoveryV1, "endpointslices", slice);
  groups = rec.WaitFor([&](const auto& g) {
    return FindGroup(g, src) &&
           FindGroup(g, src)->target_labels[0].Get(
               "__meta_kubernetes_endpointslice_endpoint_conditions_ready") == "true";
  });
  ASSERT_NE(FindGroup(groups, src), nullptr);

  // DELETED: both slices go.
  api.Delete(kDiscoveryV1, "endpointslices", slice);
  api.Delete(kDiscoveryV1, "endpointslices", MakeEndpointSliceV1());
  groups = rec.WaitFor([](const auto& g) { return g.empty(); });
  EXPECT_TRUE(groups.empty());
  d.Stop();
}

TEST(KubernetesDiscoveryEndpointSlice, ApiServerWithoutV1_FallsBackToV1beta1) {
  FakeKubeApi api;
  api.Disable(kDiscoveryV1);
  api.Add(kDiscoveryV1beta1, "endpointslices", MakeEndpointSliceV1beta1());
  KubernetesDiscoverer d(SdConfig(api, "endpointslice"));
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], EndpointSliceV1beta1Expectation());
  d.Stop();
}

TEST(KubernetesDiscoveryIngress, ListThenWatchAddUpdateDelete) {
  FakeKubeApi api;
  api.Add(kNetworkingV1, "ingresses", MakeIngress(Tls::kNo));
  KubernetesDiscoverer d(SdConfig(api, "ingress"));
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], IngressExpectation(Tls::kNo));

  api.Modify(kNetworkingV1, "ingresses", MakeIngress(Tls::kYes));
  groups = rec.WaitFor([](const auto& g) {
    return g.size() == 1 &&
           g[0].target_labels[0].Get("__meta_kubernetes_ingress_scheme") == "https";
  });
  ASSERT_EQ(groups.size(), 1u);
  ExpectGroup(groups[0], IngressExpectation(Tls::kYes));

  json other = MakeIngress(Tls::kNo);
  other["metadata"]["name"] = "second";
  api.Add(kNetworkingV1, "ingresses", other);
  groups = rec.WaitFor([](const auto& g) { return g.size() == 2; });
  EXPECT_NE(FindGroup(groups, "ingress/default/second"), nullptr);

  api.Delete(kNetworkingV1, "ingresses", MakeIngress(Tls::kYes));
  groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].source, "ingress/default/second");
  d.Stop();
}

TEST(KubernetesDiscoveryPod, AttachMetadata_NodeLabelsFollowNodeUpdates) {
  FakeKubeApi api;
  json pod = MakeTestPod();
  pod["spec"]["nodeName"] = "foobar";
  api.Add(kCore, "pods", pod);
  api.Add(kCore, "nodes", MakeNode("us-east1"));
  config::KubernetesSdConfig c = SdConfig(api, "pod");
  c.attach_metadata_node = true;
  KubernetesDiscoverer d(c);
  GroupsRecorder rec;
  d.Start(rec.Callback());
  auto groups = rec.WaitFor([](const auto& g) { return g.size() == 1; });
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].labels.Get("__meta_kubernetes_node_label_az"), "us-east1");
  api.Modify(kCore, "nodes", MakeNode("eu-central1"));
  groups = rec.WaitFor([](const auto& g) {
    return g.size() == 1 && g[0].labels.Get("__meta_kubernetes_node_label_az") == "eu-central1";
  });
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].labels.Get("__meta_kubernetes_node_label_az"), "eu-central1");
  d.Stop();
}

// Prometheus's example "kubernetes-service-endpoints" job (role: endpoints,
// documentation/examples/prometheus-kubernetes.yml) with its prometheus.io/*
// annotation rules enabled, as charts ship it: only the annotated service's
// endpoint is scraped, on the annotated path, with the service's labels.
TEST(KubernetesDiscoveryEndpoints, ServiceEndpointsExampleJob_ScrapesAnnotatedServices) {
  LoopbackServer target;
  target.server().Get("/custom-metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("inventory_items_total 7\n", "text/plain");
  });
  target.Start();
  FakeKubeApi api;
  auto service = [](const std::string& name, bool annotated) {
    json annotations = json::object();
    if (annotated)
      annotations = {{"prometheus.io/scrape", "true"}, {"prometheus.io/path", "/custom-metrics"}};
    return json{{"metadata",
                 {{"name", name},
                  {"namespace", "shop"},
                  {"labels", {{"app", name}}},
                  {"annotations", annotations}}},
                {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0.7"}}}};
  };
  auto endpoints = [](const std::string& name, int port) {
    return json{
        {"metadata", {{"name", name}, {"namespace", "shop"}}},
        {"subsets",
         json::array(
             {{{"addresses", json::array({{{"ip", "127.0.0.1"}}})},
               {"ports",
                json::array({{{"name", "http"}, {"port", port}, {"protocol", "TCP"}}})}}})}};
  };
  api.Add(kCore, "services", service("inventory", true));
  api.Add(kCore, "endpoints", endpoints("inventory", target.port()));
  api.Add(kCore, "services", service("unannotated", false));
  api.Add(kCore, "endpoints", endpoints("unannotated", target.port() + 1));

  const std::string yaml = R"(
scrape_configs:
  - job_name: "kubernetes-service-endpoints"
    scrape_interval: 1s
    scrape_timeout: 500ms
    kubernetes_sd_configs:
      - role: endpoints
        api_server: )" + api.url() +
                           R"(
    relabel_configs:
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_scrape]
        action: keep
        regex: true
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_path]
        action: replace
        target_label: __metrics_path__
        regex: (.+)
      - source_labels: [__address__, __meta_kubernetes_service_annotation_prometheus_io_port]
        action: replace
        regex: ([^:]+)(?::\d+)?;(\d+)
        replacement: $1:$2
        target_label: __address__
      - source_labels: [__meta_kubernetes_service_annotation_prometheus_io_scheme]
        action: replace
        target_label: __scheme__
        regex: (https?)
      - action: labelmap
        regex: __meta_kubernetes_service_label_(.+)
      - source_labels: [__meta_kubernetes_namespace]
        action: replace
        target_label: namespace
      - source_labels: [__meta_kubernetes_service_name]
        action: replace
        target_label: service
)";
  auto config = config::LoadConfigString(yaml, "prometheus.yml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  storage::MemoryStorage db;
  Manager m(&db, {});
  ASSERT_TRUE(m.ApplyConfig(*config).ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto targets = m.ActiveTargets();
    if (targets.size() == 1 && targets[0].health == "up") break;
    std::this_thread::sleep_for(20ms);
  }
  const auto targets = m.ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].health, "up");
  EXPECT_EQ(ToMap(targets[0].labels),
            (LabelMap{{"app", "inventory"},
                      {"instance", "127.0.0.1:" + std::to_string(target.port())},
                      {"job", "kubernetes-service-endpoints"},
                      {"namespace", "shop"},
                      {"service", "inventory"}}));
  EXPECT_EQ(m.DroppedTargets().size(), 1u);
  m.Stop();
}

}  // namespace
}  // namespace vigil::scraper
