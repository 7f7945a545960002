package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tomato-code/realtime/client"
)

func ExampleConnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, "http://127.0.0.1:3000/", map[string]any{"token": "<jwt>"})
	var refused *client.ConnectError
	if errors.As(err, &refused) {
		log.Fatalf("refused: %s", refused.Message) // e.g. "Invalid token"
	}
	if err != nil {
		log.Fatal(err)
	}
	defer s.Disconnect()

	reply, err := s.EmitWithAck(ctx, "join_order", "o1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply) // [{"success":true}]
}

func ExampleSocket_On() {
	ctx := context.Background()
	d := &client.Dialer{Transport: client.TransportPolling, Upgrade: true}
	conn, err := d.Dial(ctx, "http://127.0.0.1:3000")
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	s := conn.Socket("/")
	// Set handlers before Connect to see the events the server sends on connection.
	s.On("order_update", func(args client.Args, ack client.Ack) {
		var order struct{ ID, Status string }
		if err := args.Decode(0, &order); err != nil {
			return
		}
		fmt.Println(order.ID, order.Status)
		if ack != nil {
			ack("seen")
		}
	})
	if err := s.Connect(ctx, map[string]any{"token": "<jwt>"}); err != nil {
		log.Fatal(err)
	}
	<-s.Done()
	fmt.Println(s.Reason())
}
