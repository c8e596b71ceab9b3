// The Kubernetes objects of Prometheus 2.48's discovery tests
// (discovery/kubernetes/endpoints_test.go, endpointslice_test.go,
// ingress_test.go at v2.48.0), as the API server sends them in JSON. 2.48
// gave makeEndpoints() and makeEndpointSlice*() an annotation and an
// address (endpoint) whose targetRef is the Node "barbaz".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace vigil::scraper::k8s_test {

using json = nlohmann::json;

inline json MakeEndpoints() {  // makeEndpoints()
  return json::parse(R"({
    "metadata": {"name": "testendpoints", "namespace": "default",
                 "annotations": {"test.annotation": "test"}},
    "subsets": [
      {"addresses": [{"ip": "1.2.3.4", "hostname": "testendpoint1", "nodeName": "foobar"}],
       "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]},
      {"addresses": [{"ip": "2.3.4.5"}], "notReadyAddresses": [{"ip": "2.3.4.5"}],
       "ports": [{"name": "testport", "port": 9001, "protocol": "TCP"}]},
      {"addresses": [{"ip": "6.7.8.9", "targetRef": {"kind": "Node", "name": "barbaz"}}],
       "ports": [{"name": "testport", "port": 9002, "protocol": "TCP"}]}]})");
}

inline json MakeService(const json& labels) {
  return {{"metadata", {{"name", "testendpoints"}, {"namespace", "default"}, {"labels", labels}}}};
}

inline json MakeTestPod() {  // the pod of TestEndpointsDiscoveryAdd / TestEndpointSliceDiscoveryAdd
  return json::parse(R"({
    "metadata": {"name": "testpod", "namespace": "default", "uid": "deadbeef"},
    "spec": {"nodeName": "testnode", "containers": [
      {"name": "c1", "image": "c1:latest", "ports": [{"name": "mainport", "containerPort": 9000, "protocol": "TCP"}]},
      {"name": "c2", "image": "c2:latest", "ports": [{"name": "sideport", "containerPort": 9001, "protocol": "TCP"}]}]},
    "status": {"hostIP": "2.3.4.5", "podIP": "1.2.3.4"}})");
}

inline json MakePodEndpoints() {  // the endpoints of TestEndpointsDiscoveryAdd
  return json::parse(R"({
    "metadata": {"name": "testendpoints", "namespace": "default"},
    "subsets": [{"addresses": [{"ip": "4.3.2.1", "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"}}],
                 "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]}]})");
}

inline json MakeUpdatedEndpoints() {  // TestEndpointsDiscoveryUpdate
  return json::parse(R"({
    "metadata": {"name": "testendpoints", "namespace": "default"},
    "subsets": [
      {"addresses": [{"ip": "1.2.3.4"}], "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}]},
      {"addresses": [{"ip": "2.3.4.5"}], "ports": [{"name": "testport", "port": 9001, "protocol": "TCP"}]}]})");
}

inline json MakeEndpointSliceV1() {  // makeEndpointSliceV1()
  return json::parse(R"({
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "testendpoints", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "testendpoints"},
                 "annotations": {"test.annotation": "test"}},
    "addressType": "IPv4",
    "ports": [{"name": "testport", "port": 9000, "protocol": "TCP", "appProtocol": "http"}],
    "endpoints": [
      {"addresses": ["1.2.3.4"], "conditions": {"ready": true, "serving": true, "terminating": false},
       "hostname": "testendpoint1", "targetRef": {}, "nodeName": "foobar",
       "deprecatedTopology": {"topology": "value"}},
      {"addresses": ["2.3.4.5"], "conditions": {"ready": true, "serving": true, "terminating": false}},
      {"addresses": ["3.4.5.6"], "conditions": {"ready": false, "serving": true, "terminating": true}},
      {"addresses": ["4.5.6.7"], "conditions": {"ready": true, "serving": true, "terminating": false},
       "targetRef": {"kind": "Node", "name": "barbaz"}}]})");
}

inline json MakeEndpointSliceV1beta1() {  // makeEndpointSliceV1beta1()
  return json::parse(R"({
    "metadata": {"name": "testendpoints", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "testendpoints"},
                 "annotations": {"test.annotation": "test"}},
    "addressType": "IPv4",
    "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}],
    "endpoints": [
      {"addresses": ["1.2.3.4"], "conditions": {}, "hostname": "testendpoint1"},
      {"addresses": ["2.3.4.5"], "conditions": {"ready": true, "serving": true, "terminating": false}},
      {"addresses": ["3.4.5.6"], "conditions": {"ready": false, "serving": true, "terminating": true}},
      {"addresses": ["4.5.6.7"], "conditions": {"ready": true, "serving": true, "terminating": false},
       "targetRef": {"kind": "Node", "name": "barbaz"}}]})");
}

inline json MakePodEndpointSlice() {  // the slice of TestEndpointSliceDiscoveryAdd
  return json::parse(R"({
    "metadata": {"name": "testendpoints", "namespace": "default"},
    "addressType": "IPv4",
    "ports": [{"name": "testport", "port": 9000, "protocol": "TCP"}],
    "endpoints": [{"addresses": ["4.3.2.1"], "conditions": {"ready": false},
                   "targetRef": {"kind": "Pod", "name": "testpod", "namespace": "default"}}]})");
}

enum class Tls { kNo, kYes, kMixed, kWildcard };

inline json MakeIngress(Tls tls) {  // makeIngress(tls)
  json ingress = json::parse(R"({
    "metadata": {"name": "testingress", "namespace": "default",
                 "labels": {"test/label": "testvalue"}, "annotations": {"test/annotation": "testannotationvalue"}},
    "spec": {"ingressClassName": "testclass", "rules": [
      {"host": "example.com", "http": {"paths": [{"path": "/"}, {"path": "/foo"}]}},
      {"host": "nobackend.example.com", "http": {"paths": null}},
      {"host": "test.example.com", "http": {"paths": [{}]}}]}})");
  if (tls == Tls::kYes)
    ingress["spec"]["tls"] = json::parse(R"([{"hosts": ["example.com", "test.example.com"]}])");
  if (tls == Tls::kMixed) ingress["spec"]["tls"] = json::parse(R"([{"hosts": ["example.com"]}])");
  if (tls == Tls::kWildcard)
    ingress["spec"]["tls"] = json::parse(R"([{"hosts": ["*.example.com"]}])");
  return ingress;
}

// makeNode(name, "", "", {"az": az}, nil)
inline json MakeNode(const std::string& az, const std::string& name = "foobar") {
  return {{"metadata", {{"name", name}, {"labels", {{"az", az}}}}},
          {"status", {{"addresses", json::array()}}}};
}

}  // namespace vigil::scraper::k8s_test
