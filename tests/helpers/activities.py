"""Distinct everyday activities, three English paraphrases each, for the planted datasets.

No two activities share their object or action, so a sentence embedding tells them apart;
the paraphrases of one activity say the same thing in other words (MSVD-style captions).
"""

from __future__ import annotations

ACTIVITIES: tuple[tuple[str, str, str], ...] = (
    (
        "a man is slicing a tomato",
        "someone cuts a red tomato with a knife",
        "a person chops a tomato",
    ),
    ("a woman plays the violin", "a lady is playing a violin", "a violinist performs a tune"),
    ("a dog catches a frisbee", "a puppy leaps to grab a flying disc", "a dog jumps for a frisbee"),
    ("a boy rides a skateboard", "a kid is skateboarding down a ramp", "a teen skates on a board"),
    ("a cat drinks milk from a bowl", "a kitten laps up milk", "a cat is drinking milk"),
    ("a chef flips a pancake", "a cook tosses a pancake in a pan", "someone flips pancakes"),
    ("a girl brushes her long hair", "a young woman combs her hair", "a girl is brushing hair"),
    ("a man mows the lawn", "a person pushes a lawn mower", "someone is cutting the grass"),
    ("two men play table tennis", "players hit a ping pong ball", "a ping pong match is played"),
    ("a woman knits a scarf", "a lady is knitting with yarn", "someone knits with needles"),
    ("a horse gallops across a field", "a horse runs fast in a meadow", "a galloping horse"),
    ("a man shaves his beard", "a guy is shaving his face", "a man uses a razor on his chin"),
    ("a baby laughs in a crib", "an infant giggles in its cot", "a baby is laughing"),
    ("a woman pours wine into a glass", "red wine is poured", "a lady fills a wine glass"),
    ("a man climbs a rock wall", "a climber scales a cliff", "someone is rock climbing"),
    ("a monkey eats a banana", "an ape peels and eats a banana", "a monkey is eating fruit"),
    ("a man plays the drums", "a drummer hits the drum kit", "someone is drumming"),
    ("a woman paints a canvas", "an artist paints a picture", "a lady brushes paint on canvas"),
    ("a car drives through snow", "a vehicle moves on a snowy road", "a car on an icy street"),
    ("a boy kicks a soccer ball", "a kid shoots a football at a goal", "a child plays soccer"),
    ("a man fries an egg", "an egg is cooked in a frying pan", "someone fries eggs"),
    ("a woman does yoga on a mat", "a lady stretches in a yoga pose", "someone practices yoga"),
    ("a parrot talks in a cage", "a bird mimics human words", "a parrot is speaking"),
    ("a man washes a car", "a person scrubs a car with soap", "someone is washing a car"),
    ("a girl jumps on a trampoline", "a kid bounces on a trampoline", "a child is trampolining"),
    ("a woman types on a laptop", "a lady is typing on a computer", "someone uses a keyboard"),
    ("a man chops firewood with an axe", "a guy splits logs", "someone is chopping wood"),
    ("a duck swims in a pond", "a duck floats on the water", "ducks paddle in a pond"),
    ("a woman sews a dress", "a seamstress uses a sewing machine", "a lady is sewing fabric"),
    ("a boy blows out birthday candles", "a child blows candles on a cake", "a birthday cake"),
    ("a man surfs a big wave", "a surfer rides a wave", "someone is surfing in the ocean"),
    ("a woman irons a shirt", "a lady presses clothes with an iron", "someone is ironing"),
    ("a man juggles three balls", "a juggler tosses balls in the air", "someone is juggling"),
    ("a hamster runs on a wheel", "a small rodent spins its wheel", "a hamster is running"),
    ("a woman peels potatoes", "a lady is peeling a potato", "someone peels potatoes"),
    ("a man plays the piano", "a pianist plays piano keys", "someone is playing piano"),
    ("a girl feeds goats at a farm", "a child gives food to goats", "goats are being fed"),
    ("a man repairs a bicycle tire", "a person fixes a flat bike tire", "a bike is repaired"),
    ("a woman dances ballet", "a ballerina twirls on stage", "a dancer performs ballet"),
    ("a man fishes from a boat", "a fisherman casts a line", "someone is fishing on a lake"),
    ("a man lifts heavy weights", "a bodybuilder lifts a barbell", "someone is weightlifting"),
    ("a woman waters the flowers", "a lady sprinkles water on plants", "plants are watered"),
    ("a boy builds a sandcastle", "a kid makes a castle of sand", "a sandcastle on a beach"),
    ("a man paints a wall white", "a painter rolls paint on a wall", "a wall is being painted"),
    ("a girl rides a horse", "a young rider on a horse", "a girl is horseback riding"),
    ("a woman bakes bread in an oven", "a loaf of bread is baked", "someone bakes bread"),
    ("a man skis down a slope", "a skier goes down a snowy mountain", "someone is skiing"),
    ("a woman walks a dog on a leash", "a lady takes her dog for a walk", "a dog is walked"),
    ("a man sings into a microphone", "a singer performs a song", "someone is singing"),
    ("a boy plays a video game", "a kid uses a game controller", "someone plays video games"),
    ("a man rows a canoe on a river", "a person paddles a canoe", "someone is canoeing"),
    ("a woman applies lipstick", "a lady puts on makeup", "lipstick is applied to lips"),
    ("a man throws darts at a board", "a player throws a dart", "someone plays darts"),
    ("a girl blows soap bubbles", "a child makes bubbles", "bubbles float in the air"),
    ("a man welds metal", "a welder joins steel with sparks", "sparks fly from a welder"),
    ("a woman hangs laundry on a line", "clothes are hung to dry", "a lady hangs washing"),
    ("a man shovels snow from a driveway", "someone clears snow", "snow is shoveled"),
    ("a boy flies a kite", "a kid runs with a kite in the wind", "a kite flies high"),
    ("a woman makes a smoothie in a blender", "fruit is blended", "a blender mixes a drink"),
    ("a man plays golf", "a golfer swings a club", "someone hits a golf ball"),
    ("a girl does a cartwheel", "a child flips on the grass", "a kid does gymnastics"),
    ("a man changes a car tire", "a mechanic replaces a wheel", "a tire is changed"),
    ("a woman feeds a baby with a bottle", "an infant drinks from a bottle", "a baby is fed"),
    ("a man plays the saxophone", "a saxophonist plays jazz", "someone plays a sax"),
    ("a penguin waddles on ice", "penguins walk on the ice", "a penguin is walking"),
    ("a woman vacuums the carpet", "a lady cleans a rug with a vacuum", "someone is vacuuming"),
    ("a man dives into a swimming pool", "a diver jumps into the water", "someone dives"),
    ("a boy solves a rubik cube", "a kid twists a puzzle cube", "a cube puzzle is solved"),
    ("a woman rides a motorcycle", "a biker drives a motorbike", "a motorcycle on a road"),
    ("a man carves a pumpkin", "a pumpkin is carved for halloween", "someone carves a face"),
    ("a girl plays the flute", "a flutist plays a melody", "someone plays the flute"),
    ("a man grills sausages on a barbecue", "meat sizzles on a grill", "a barbecue cookout"),
)

#: Long, detailed sentences (40+ words each): a paragraph of several of them overflows a
#: 256-token text encoder.
LONG_SENTENCES: tuple[str, ...] = (
    "an elderly carpenter in a dusty workshop carefully measures a long oak plank with a yellow "
    "tape measure, marks the cutting line with a flat pencil, clamps the board to his sturdy "
    "wooden workbench and then saws it slowly into two equal pieces while sawdust piles up on "
    "the floor below",
    "a group of cheerful teenagers wearing bright orange life jackets paddle a large inflatable "
    "raft down a fast and rocky mountain river, shouting and laughing as cold white water "
    "splashes over the sides and their guide steers them away from the sharp boulders near the "
    "bank",
    "a young beekeeper dressed in a white protective suit and a veiled hat lifts a wooden frame "
    "covered with buzzing honeybees out of a hive box, gently brushes the bees away with a soft "
    "brush and inspects the golden honeycomb cells that glisten in the afternoon sunlight",
    "on a crowded city street at night a street performer with a painted silver face stands "
    "perfectly still like a statue on a small wooden crate, then suddenly moves and bows to "
    "surprised tourists who drop coins and paper bills into the open hat lying at his feet",
    "inside a brightly lit laboratory a scientist wearing safety goggles and blue rubber gloves "
    "uses a thin glass pipette to transfer drops of a green liquid into a row of small test "
    "tubes, writes the results in a notebook and places the rack inside a humming centrifuge",
)
