// Command dc-deployer runs DeploymentConfig rollouts on the local control plane.
//
// On OpenShift the DeploymentConfig controller creates a deployer pod for every
// new ReplicationController, and that pod runs `openshift-deploy` (from
// github.com/openshift/oc), which scales the new controller up and the old
// ones down. kwok only pretends to run pods, so this process plays the deployer
// pods' part: it watches for Running deployer pods, runs the same deployer code
// (oc's pkg/cli/deployer, in-process) for the ReplicationController named in the
// pod's environment, and then records the outcome as the pod's phase
// (Succeeded or Failed), which is what the DeploymentConfig controller waits for.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	imageclientv1 "github.com/openshift/client-go/image/clientset/versioned"
	"github.com/openshift/oc/pkg/cli/deployer"
	"github.com/openshift/oc/pkg/cli/deployer/strategy"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const deployerPodLabel = "openshift.io/deployer-pod-for.name"

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the identity that deploys")
	health := flag.String("health-address", "127.0.0.1:0", "address of the /healthz endpoint")
	interval := flag.Duration("interval", time.Second, "how often deployer pods are looked for")
	flag.Parse()

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig %s: %v", *kubeconfig, err)
	}
	kube, err := kubernetes.NewForConfig(config)
	if err != nil {
		log.Fatal(err)
	}
	images, err := imageclientv1.NewForConfig(config)
	if err != nil {
		log.Fatal(err)
	}

	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	go func() { log.Fatal(http.ListenAndServe(*health, nil)) }()

	var mu sync.Mutex
	running := map[string]bool{}
	for {
		pods, err := kube.CoreV1().Pods("").List(context.TODO(), metav1.ListOptions{LabelSelector: deployerPodLabel})
		if err != nil {
			log.Printf("listing deployer pods: %v", err)
		}
		for i := range podsOrEmpty(pods) {
			pod := pods.Items[i]
			key := string(pod.UID)
			mu.Lock()
			busy := running[key]
			mu.Unlock()
			if busy || pod.Status.Phase != corev1.PodRunning || pod.DeletionTimestamp != nil {
				continue
			}
			mu.Lock()
			running[key] = true
			mu.Unlock()
			go func(pod corev1.Pod) {
				deploy(kube, images, pod)
				mu.Lock()
				delete(running, string(pod.UID))
				mu.Unlock()
			}(pod)
		}
		time.Sleep(*interval)
	}
}

func podsOrEmpty(pods *corev1.PodList) []corev1.Pod {
	if pods == nil {
		return nil
	}
	return pods.Items
}

// deploy runs the deployer for one pod and records the result in the pod's status.
func deploy(kube kubernetes.Interface, images imageclientv1.Interface, pod corev1.Pod) {
	rc, namespace := "", pod.Namespace
	for _, c := range pod.Spec.Containers {
		for _, e := range c.Env {
			switch e.Name {
			case "OPENSHIFT_DEPLOYMENT_NAME":
				rc = e.Value
			case "OPENSHIFT_DEPLOYMENT_NAMESPACE":
				namespace = e.Value
			}
		}
	}
	var out bytes.Buffer
	err := fmt.Errorf("pod %s/%s names no OPENSHIFT_DEPLOYMENT_NAME", pod.Namespace, pod.Name)
	if rc != "" {
		err = deployer.NewDeployer(kube, images, &out, &out, "").Deploy(namespace, rc)
		if strategy.IsConditionReached(err) {
			err = nil
		}
	}
	phase, exit, reason := corev1.PodSucceeded, int32(0), "Completed"
	if err != nil {
		phase, exit, reason = corev1.PodFailed, 1, "Error"
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	log.Printf("%s/%s (%s): %s\n%s", pod.Namespace, pod.Name, rc, phase, out.String())
	now := metav1.Now()
	for attempt := 0; attempt < 5; attempt++ {
		current, getErr := kube.CoreV1().Pods(pod.Namespace).Get(context.TODO(), pod.Name, metav1.GetOptions{})
		if getErr != nil {
			log.Printf("%s/%s: %v", pod.Namespace, pod.Name, getErr)
			return
		}
		current.Status.Phase = phase
		statuses := []corev1.ContainerStatus{}
		for _, c := range current.Spec.Containers {
			statuses = append(statuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, Reason: reason, FinishedAt: now,
					Message: tail(out.String(), 1024)}}})
		}
		current.Status.ContainerStatuses = statuses
		for i := range current.Status.Conditions {
			if current.Status.Conditions[i].Type == corev1.PodReady || current.Status.Conditions[i].Type == corev1.ContainersReady {
				current.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
		if _, updErr := kube.CoreV1().Pods(pod.Namespace).UpdateStatus(context.TODO(), current, metav1.UpdateOptions{}); updErr == nil {
			return
		} else {
			log.Printf("%s/%s: recording %s: %v", pod.Namespace, pod.Name, phase, updErr)
		}
		time.Sleep(time.Second)
	}
	os.Exit(1)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
