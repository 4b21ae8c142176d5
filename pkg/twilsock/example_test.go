package twilsock_test

import (
	"fmt"

	"github.com/convctl/convctl/pkg/twilsock"
)

func ExampleEncode() {
	h := twilsock.NewAck("TM04737660235f408d97d2954af4baa01d")
	b, err := twilsock.Encode(h, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b)
	// Output: "TWILSOCK V3.0 147\r\n{\"id\":\"TM04737660235f408d97d2954af4baa01d\",\"method\":\"reply\",\"payload_type\":\"application/json\",\"status\":{\"code\":200,\"status\":\"OK\"},\"payload_size\":0}\r\n"
}

func ExampleDecode() {
	in := []byte("TWILSOCK V3.0 30\r\n{\"id\":\"TM1\",\"method\":\"cl\"ose\"}\r\n")
	_, err := twilsock.Decode(in)
	fmt.Println(err)
	// Output: twilsock frame: byte 43: header is not valid JSON: invalid character 'o' after object key:value pair
}
